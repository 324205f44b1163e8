use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use super::*;
use crate::doctor::Status;
use crate::doctor::access::*;

fn reply(status: u16, body: serde_json::Value, headers: &[(&str, &str)]) -> Reply {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    Reply {
        status: StatusCode::from_u16(status).unwrap(),
        headers: map,
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn transport_failures_are_named_plainly() {
    let t = Duration::from_secs(10);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            s(&["error sending request", "tcp connect error"]),
            true,
            false,
            "connection refused by h:443",
        ),
        (
            s(&[
                "error sending request",
                "dns error",
                "failed to lookup address information",
            ]),
            false,
            false,
            "DNS: the host name h does not resolve",
        ),
        (
            s(&[
                "error sending request",
                "invalid peer certificate: UnknownIssuer",
            ]),
            false,
            false,
            "TLS handshake with h:443 failed: invalid peer certificate: UnknownIssuer",
        ),
        (
            s(&[
                "error sending request",
                "received corrupt message of type InvalidContentType",
            ]),
            false,
            false,
            "TLS handshake",
        ),
        (
            s(&["error sending request", "operation timed out"]),
            false,
            true,
            "no answer from h:443 within 10s",
        ),
        (
            s(&["error sending request", "connection reset"]),
            false,
            false,
            "cannot reach h:443: connection reset",
        ),
    ];
    for (chain, refused, timed_out, want) in cases {
        let named = name_transport(&chain, refused, timed_out, "h", 443, t);
        assert!(
            named.starts_with(want),
            "{named:?} should start with {want:?}"
        );
    }
}

#[test]
fn myself_names_the_account_or_the_fix_for_the_auth_type() {
    let ok = reply(
        200,
        json!({"accountId": "5b10", "accountType": "atlassian", "displayName": "Bot", "active": true}),
        &[],
    );
    let v = myself(&ok, AuthKind::Basic, "tenants[0]");
    assert_eq!(v.status, Status::Ok);
    assert!(
        v.detail.contains("5b10") && v.detail.contains("atlassian"),
        "{}",
        v.detail
    );

    let cases = [
        (AuthKind::Basic, "tenants[0].auth.api_token"),
        (AuthKind::Bearer, "tenants[0].auth.token"),
        (AuthKind::OAuth, "client_secret"),
        (AuthKind::Connect, "reinstall"),
        (AuthKind::Forge, "scheduled trigger"),
    ];
    for (kind, in_fix) in cases {
        let v = myself(&reply(401, json!({}), &[]), kind, "tenants[0]");
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.fix.as_deref().unwrap().contains(in_fix),
            "{kind:?}: {:?}",
            v.fix
        );
    }
    let inactive = reply(
        200,
        json!({"accountId": "x", "accountType": "app", "active": false}),
        &[],
    );
    assert_eq!(myself(&inactive, AuthKind::Basic, "k").status, Status::Fail);
    let html = Reply {
        body: b"<html>login</html>".to_vec(),
        ..reply(200, json!(null), &[])
    };
    assert!(
        myself(&html, AuthKind::Basic, "k")
            .detail
            .contains("not Jira's")
    );
    let moved = reply(
        302,
        json!(null),
        &[("location", "https://other.example/login")],
    );
    assert!(
        myself(&moved, AuthKind::Basic, "k")
            .detail
            .contains("https://other.example/login")
    );
    assert!(
        myself(&reply(404, json!(null), &[]), AuthKind::Basic, "k")
            .detail
            .contains("404")
    );
    assert_eq!(
        myself(&reply(429, json!(null), &[]), AuthKind::Basic, "k").status,
        Status::Warn
    );
}

#[test]
fn permissions_judge_administer_and_user_picker() {
    let body = |admin: bool, picker: bool| {
        json!({"permissions": {
            "ADMINISTER": {"key": "ADMINISTER", "havePermission": admin},
            "USER_PICKER": {"key": "USER_PICKER", "havePermission": picker},
        }})
    };
    let statuses = |admin, picker, steps| {
        permissions(
            &reply(200, body(admin, picker), &[]),
            AuthKind::Basic,
            steps,
        )
        .iter()
        .map(|v| v.status)
        .collect::<Vec<_>>()
    };
    assert_eq!(statuses(true, true, true), [Status::Ok, Status::Ok]);
    assert_eq!(statuses(false, true, false), [Status::Fail, Status::Ok]);
    assert_eq!(statuses(true, false, false), [Status::Ok, Status::Warn]);
    assert_eq!(statuses(true, false, true), [Status::Ok, Status::Fail]);
    let picker = &permissions(&reply(200, body(true, false), &[]), AuthKind::Basic, false)[1];
    assert!(
        picker.detail.contains("account_unreadable"),
        "{}",
        picker.detail
    );
    let refused = permissions(&reply(500, json!({}), &[]), AuthKind::Basic, false);
    assert!(refused.iter().all(|v| v.status == Status::Fail));
}

#[test]
fn desks_and_organizations_exist_or_name_their_key() {
    let desk = Member {
        kind: "service_desk",
        id: "12".into(),
        key: "tenants[0].service_desk_ids".into(),
    };
    let org = Member {
        kind: "organization",
        id: "HR 1".into(),
        key: "sources[1].organization_ids".into(),
    };
    assert_eq!(desk.path(), "/rest/servicedeskapi/servicedesk/12");
    assert_eq!(org.path(), "/rest/servicedeskapi/organization/HR%201");
    let found = member(
        &reply(200, json!({"id": "12", "projectName": "Help"}), &[]),
        &desk,
    );
    assert_eq!(
        (found.status, found.check.as_str()),
        (Status::Ok, "service_desk:12")
    );
    assert!(found.detail.contains("Help"));
    let missing = member(&reply(404, json!({}), &[]), &org);
    assert_eq!(missing.status, Status::Fail);
    assert!(missing.detail.contains("does not exist or cannot be seen"));
    assert!(missing.fix.unwrap().contains("sources[1].organization_ids"));
    assert_eq!(
        member(&reply(403, json!({}), &[]), &desk).status,
        Status::Fail
    );
}

#[test]
fn clock_skew_over_30_s_is_a_warning() {
    let now = httpdate::parse_http_date("Sun, 06 Dec 2026 12:00:00 GMT").unwrap();
    let with_date = |d: &str| reply(200, json!(null), &[("date", d)]).headers;
    let cases = [
        ("Sun, 06 Dec 2026 12:00:00 GMT", Status::Ok, "within 1s"),
        ("Sun, 06 Dec 2026 12:00:30 GMT", Status::Ok, "within 30s"),
        ("Sun, 06 Dec 2026 12:00:31 GMT", Status::Warn, "31s behind"),
        (
            "Sun, 06 Dec 2026 11:58:00 GMT",
            Status::Warn,
            "120s ahead of",
        ),
    ];
    for (date, status, text) in cases {
        let v = clock(&with_date(date), now);
        assert_eq!(v.status, status, "{date}");
        assert!(v.detail.contains(text), "{date}: {}", v.detail);
    }
    assert_eq!(
        clock(&HeaderMap::new(), SystemTime::now()).status,
        Status::Warn
    );
}

#[test]
fn rate_limit_headroom_warns_near_the_limit() {
    let h = |pairs: &[(&str, &str)]| reply(200, json!(null), pairs).headers;
    let plenty = h(&[
        ("x-ratelimit-limit", "100"),
        ("x-ratelimit-remaining", "80"),
    ]);
    let low = h(&[
        ("x-ratelimit-limit", "100"),
        ("x-ratelimit-remaining", "19"),
    ]);
    let flagged = h(&[
        ("x-ratelimit-limit", "100"),
        ("x-ratelimit-remaining", "50"),
        ("x-ratelimit-nearlimit", "true"),
    ]);
    let limited = h(&[
        ("retry-after", "7"),
        ("ratelimit-reason", "jira-burst-based"),
    ]);
    assert_eq!(rate_limit(None, None).status, Status::Ok);
    let v = rate_limit(Some(&plenty), None);
    assert_eq!(v.status, Status::Ok);
    assert!(v.detail.contains("80 of 100"), "{}", v.detail);
    assert_eq!(rate_limit(Some(&low), None).status, Status::Warn);
    assert_eq!(rate_limit(Some(&flagged), None).status, Status::Warn);
    let v = rate_limit(Some(&plenty), Some(&limited));
    assert_eq!(v.status, Status::Warn);
    assert!(v.detail.contains("jira-burst-based") && v.detail.contains('7'));
}
