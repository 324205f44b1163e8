//! A tiny HTTP/1.1 peer for outbound-client tests: a fixed body, a redirect, or a chunked body
//! that never ends. It counts the requests it received.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the peer answers every request with.
#[derive(Clone)]
pub(crate) enum Served {
    /// 200 with this body and its Content-Length.
    Body(String),
    /// 307 to this URL.
    Redirect(String),
    /// 200, chunked, without end.
    Endless,
}

/// A running peer; stopped when dropped.
pub(crate) struct TestServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// How many requests it has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn serve(what: Served) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let what = what.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let _ = answer(stream, what, counter).await;
            });
        }
    });
    TestServer { url, hits, task }
}

pub(crate) async fn redirect_to(url: &str) -> TestServer {
    serve(Served::Redirect(format!("{url}/elsewhere"))).await
}

pub(crate) async fn endless_chunked() -> TestServer {
    serve(Served::Endless).await
}

async fn answer(
    mut stream: TcpStream,
    what: Served,
    hits: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    read_request(&mut stream).await?;
    hits.fetch_add(1, Ordering::SeqCst);
    match what {
        Served::Body(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Served::Redirect(location) => {
            let head = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
        }
        Served::Endless => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            loop {
                stream.write_all(chunk.as_bytes()).await?;
            }
        }
    }
    stream.shutdown().await
}

/// Read the head and a Content-Length body, so closing never resets unread data.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok(())
}
