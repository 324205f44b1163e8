//! The order of the checks of one tenant, and when to stop: without usable credentials or an
//! answer from JSM, the later checks would only repeat the first failure.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::access::{self, AuthKind};
use super::checks;
use super::probe::{Probe, ProbeError, Reply};
use super::{Finding, Status, Target, Verdict};

const MYSELF: &str = "/rest/api/3/myself";
const PERMISSIONS: &str = "/rest/api/3/mypermissions";

/// Check every target in turn (one at a time: doctor adds no load worth parallelising).
pub async fn run(targets: &[Target], timeout: Duration) -> Result<Vec<Finding>, reqwest::Error> {
    let probe = Probe::new(timeout)?;
    let mut findings = Vec::new();
    for target in targets {
        for verdict in check(&probe, target).await {
            findings.push(verdict.of(&target.id));
        }
    }
    Ok(findings)
}

/// What the answers so far said about rate limits.
#[derive(Default)]
struct Limits {
    latest: Option<HeaderMap>,
    limited: Option<HeaderMap>,
}

impl Limits {
    fn note(&mut self, reply: &Reply) {
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            self.limited = Some(reply.headers.clone());
        }
        if reply.headers.contains_key("x-ratelimit-limit")
            || reply.headers.contains_key("x-ratelimit-nearlimit")
        {
            self.latest = Some(reply.headers.clone());
        }
    }
}

async fn check(probe: &Probe, target: &Target) -> Vec<Verdict> {
    let mut out = target.offline.clone();
    let Some(jsm) = &target.jsm else {
        return out;
    };
    if out.iter().any(|v| v.status == Status::Fail) {
        return out;
    }
    let kind: AuthKind = target.kind;
    let mut limits = Limits::default();
    let me = match probe.get(jsm, MYSELF, &[]).await {
        Ok(reply) => reply,
        Err(ProbeError::Transport(why)) => {
            out.push(access::unreachable(why, jsm.base_url.as_str()));
            return out;
        }
        Err(ProbeError::Credentials(why)) => {
            out.push(access::no_credentials(kind, &target.key, why));
            return out;
        }
    };
    let received = SystemTime::now();
    limits.note(&me);
    out.push(access::reachable(&jsm.base_url));
    let credentials = access::myself(&me, kind, &target.key);
    let refused = credentials.status == Status::Fail;
    out.push(credentials);
    out.push(checks::clock(&me.headers, received));
    if refused {
        return out;
    }
    let query = [("permissions", "ADMINISTER,USER_PICKER")];
    let has_steps = !target.members.is_empty();
    match probe.get(jsm, PERMISSIONS, &query).await {
        Ok(reply) => {
            limits.note(&reply);
            out.extend(checks::permissions(&reply, kind, has_steps));
        }
        Err(e) => {
            let why = lost(e);
            for check in ["permission:ADMINISTER", "permission:USER_PICKER"] {
                out.push(why(check));
            }
        }
    }
    for member in &target.members {
        match probe.get(jsm, &member.path(), &[]).await {
            Ok(reply) => {
                limits.note(&reply);
                out.push(checks::member(&reply, member));
            }
            Err(e) => out.push(lost(e)(&format!("{}:{}", member.kind, member.id))),
        }
    }
    out.push(checks::rate_limit(
        limits.latest.as_ref(),
        limits.limited.as_ref(),
    ));
    out
}

/// A later call failed although the first one went through: the verdict for each check it
/// served.
fn lost(e: ProbeError) -> impl Fn(&str) -> Verdict {
    let why = match e {
        ProbeError::Transport(why) | ProbeError::Credentials(why) => why,
    };
    move |check| {
        Verdict::fail(
            check,
            format!("the call failed after earlier ones succeeded: {why}"),
            "run doctor again; if it persists, check the network path to JSM",
        )
    }
}
