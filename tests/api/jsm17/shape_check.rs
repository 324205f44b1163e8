//! The checker behind `shapes`: the fixture's type notation (see its `about`), applied to a
//! JSON answer.

use serde_json::{Value, json};

/// The team's fixture of the published shapes.
pub fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jsm/shapes.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Whether `value` has the type `ty` of the fixture's notation; the reason when not.
pub fn conforms(fx: &Value, ty: &str, value: Option<&Value>, at: &str) -> Result<(), String> {
    if let Some(inner) = ty.strip_suffix('?') {
        return match value {
            None | Some(Value::Null) => Ok(()),
            some => conforms(fx, inner, some, at),
        };
    }
    let value = value.ok_or_else(|| format!("{at}: missing ({ty})"))?;
    let wrong = || Err(format!("{at}: {value} is not {ty}"));
    if let Some(item) = ty.strip_prefix("array<").and_then(|t| t.strip_suffix('>')) {
        let Value::Array(items) = value else {
            return wrong();
        };
        return items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| conforms(fx, item, Some(v), &format!("{at}[{i}]")));
    }
    if let Some(item) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
        let Value::Object(map) = value else {
            return wrong();
        };
        return map
            .iter()
            .try_for_each(|(k, v)| conforms(fx, item, Some(v), &format!("{at}.{k}")));
    }
    let ok = match ty {
        "any" => true,
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        name => {
            let fields = fx["types"][name]
                .as_object()
                .unwrap_or_else(|| panic!("type {name} is not in the fixture"));
            if !value.is_object() {
                return wrong();
            }
            for (field, field_ty) in fields {
                let got = value.get(field);
                conforms(
                    fx,
                    field_ty.as_str().unwrap(),
                    got,
                    &format!("{at}.{field}"),
                )?;
                let allowed = &fx["enums"][format!("{name}.{field}")];
                if let (Some(allowed), Some(Value::String(got))) = (allowed.as_array(), got)
                    && !allowed.iter().any(|a| a == got)
                {
                    return Err(format!("{at}.{field}: {got} is not one of {allowed:?}"));
                }
            }
            true
        }
    };
    if ok { Ok(()) } else { wrong() }
}

/// `/a/{id}/b` matches `/a/10/b`.
pub fn same_path(published: &str, actual: &str) -> bool {
    let (p, a): (Vec<&str>, Vec<&str>) =
        (published.split('/').collect(), actual.split('/').collect());
    p.len() == a.len() && p.iter().zip(&a).all(|(p, a)| p.starts_with('{') || p == a)
}

#[test]
fn the_checker_rejects_what_the_documents_do_not_publish() {
    let fx = fixture();
    let good = json!({"accountId": "a", "displayName": "D", "active": true});
    assert!(conforms(&fx, "UserDTO", Some(&good), "x").is_ok());
    for bad in [
        json!({"displayName": "D", "active": true}),
        json!({"accountId": "a", "displayName": "D", "active": "true"}),
        json!({"accountId": 1, "displayName": "D", "active": true}),
    ] {
        assert!(conforms(&fx, "UserDTO", Some(&bad), "x").is_err(), "{bad}");
    }
    let user = json!({"accountId": "a", "accountType": "robot", "active": true});
    assert!(conforms(&fx, "User", Some(&user), "x").is_err(), "enum");
    let page = json!({"size": 1, "start": 0, "limit": 50, "isLastPage": "yes", "values": []});
    assert!(conforms(&fx, "PagedDTOUserDTO", Some(&page), "x").is_err());
}
