//! The Connect app descriptor served at `GET /atlassian-connect.json`.
//!
//! The template is the top-level `atlassian-connect.json`, embedded at build time so `serve`
//! works from any directory. Placeholders are whole JSON string values (`"{{baseUrl}}"`) and
//! are replaced in the parsed document, never by text substitution, so a value cannot change
//! the document's structure.

use serde_json::Value;

const TEMPLATE: &str = include_str!("../../atlassian-connect.json");

/// Lifecycle routes, fixed in code; the descriptor names them relative to `baseUrl`.
pub const INSTALLED: &str = "/lifecycle/installed";
pub const UNINSTALLED: &str = "/lifecycle/uninstalled";
pub const ENABLED: &str = "/lifecycle/enabled";
pub const DISABLED: &str = "/lifecycle/disabled";

/// Render the descriptor for this app identity and public base URL.
pub fn render(app_key: &str, app_name: &str, base_url: &str) -> Result<String, String> {
    let mut document: Value = serde_json::from_str(TEMPLATE)
        .map_err(|e| format!("the embedded atlassian-connect.json is not JSON: {e}"))?;
    let base_url = base_url.trim_end_matches('/');
    let values = [
        ("{{key}}", app_key),
        ("{{name}}", app_name),
        ("{{baseUrl}}", base_url),
        ("{{lifecycle.installed}}", INSTALLED),
        ("{{lifecycle.uninstalled}}", UNINSTALLED),
        ("{{lifecycle.enabled}}", ENABLED),
        ("{{lifecycle.disabled}}", DISABLED),
    ];
    fill(&mut document, &values);
    serde_json::to_string_pretty(&document).map_err(|e| e.to_string())
}

fn fill(value: &mut Value, values: &[(&str, &str)]) {
    match value {
        Value::String(s) => {
            if let Some((_, v)) = values.iter().find(|(k, _)| k == s) {
                *s = (*v).to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill(v, values)),
        Value::Object(map) => map.values_mut().for_each(|v| fill(v, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder() {
        let text = render("com.acme.bridge", "Bridge \"x\"", "https://b.example.com/").unwrap();
        assert!(!text.contains("{{"), "{text}");
        let d: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(d["key"], "com.acme.bridge");
        assert_eq!(d["name"], "Bridge \"x\"");
        assert_eq!(d["baseUrl"], "https://b.example.com");
        assert_eq!(d["authentication"]["type"], "jwt");
        assert!(d["scopes"].as_array().unwrap().contains(&"ADMIN".into()));
        assert_eq!(d["lifecycle"]["installed"], INSTALLED);
        assert_eq!(d["lifecycle"]["uninstalled"], UNINSTALLED);
        assert_eq!(d["lifecycle"]["enabled"], ENABLED);
        assert_eq!(d["lifecycle"]["disabled"], DISABLED);
        assert_eq!(d["apiMigrations"]["signed-install"], true);
        assert_eq!(d["apiMigrations"]["context-qsh"], true);
    }
}
