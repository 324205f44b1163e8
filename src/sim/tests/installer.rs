//! The simulator as Atlassian's installer: its key server and the install control route.

use super::*;
use crate::sim::InstallerKey;

#[tokio::test]
async fn serves_its_install_key_by_kid_and_nothing_else() {
    let sim = start(config()).await;
    let key = InstallerKey::shared().expect("key");
    let resp = client()
        .get(format!("{}/{}", sim.control_url, key.kid()))
        .send()
        .await
        .expect("get key");
    assert_eq!(resp.status().as_u16(), 200);
    let pem = resp.text().await.expect("pem");
    assert_eq!(pem, key.public_pem());
    assert!(jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok());
    let resp = client()
        .get(format!("{}/jsm-sim-0000", sim.control_url))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 404);
    assert!(sim.state().requests().is_empty());
    // Other one-segment paths, any method, are JSM requests like the rest (401 unauthenticated).
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let resp = client()
            .request(method.clone(), format!("{}/anything", sim.control_url))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 401, "{method}");
    }
    assert_eq!(sim.state().requests().len(), 2);
    sim.stop().await;
}

#[tokio::test]
async fn install_route_reports_an_unreachable_bridge() {
    let sim = start(config()).await;
    let resp = client()
        .post(format!("{}/_sim/install", sim.control_url))
        .json(&json!({"bridgeUrl": "http://127.0.0.1:9"}))
        .send()
        .await
        .expect("install");
    assert_eq!(resp.status().as_u16(), 502);
    let resp = client()
        .post(format!("{}/_sim/install", sim.control_url))
        .json(&json!({"bridge": "x"}))
        .send()
        .await
        .expect("install");
    assert_eq!(resp.status().as_u16(), 400);
    sim.stop().await;
}
