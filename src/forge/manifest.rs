//! The shipped Forge manifest (`forge/manifest.yml`) with the remote's `baseUrl` filled in.

/// The manifest as shipped.
pub const MANIFEST: &str = include_str!("../../forge/manifest.yml");

/// The placeholder `baseUrl` of the shipped manifest.
pub const PLACEHOLDER_BASE_URL: &str = "https://signup-bridge.example.com";

/// The scopes the welcome request adds (SPEC §20): the request create
/// (`write:servicedesk-request`), the request type `doctor` reads (`read:servicedesk-request`)
/// and the JQL search (`read:jira-work`), as Atlassian's REST documentation lists them.
pub const WELCOME_SCOPES: [&str; 3] = [
    "write:servicedesk-request",
    "read:servicedesk-request",
    "read:jira-work",
];

/// The manifest with `public_url` (trailing slash dropped) as the remote's `baseUrl`,
/// `app_id` as `app.id` when one is configured, and the welcome request's scopes when a
/// source sending to an installation has a `welcome_request`.
pub fn render(public_url: &str, app_id: &str, welcome: bool) -> String {
    let mut manifest = MANIFEST.replace(
        &format!("baseUrl: {PLACEHOLDER_BASE_URL}"),
        &format!("baseUrl: {}", public_url.trim_end_matches('/')),
    );
    if !app_id.is_empty() {
        manifest = manifest.replace(
            "id: ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000",
            &format!("id: {app_id}"),
        );
    }
    if welcome {
        let extra: String = WELCOME_SCOPES
            .iter()
            .map(|scope| format!("\n    - {scope}"))
            .collect();
        manifest = manifest.replace(
            "    - read:jira-user",
            &format!("    - read:jira-user{extra}"),
        );
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_has_what_forge_remote_needs() {
        for needed in [
            "remotes:",
            "operations:\n      - compute",
            "path: /forge/lifecycle",
            "path: /forge/refresh",
            "path: /forge/uninstall",
            "avi:forge:installed:app",
            "avi:forge:upgraded:app",
            "interval: hour",
            "preUninstall:",
            "- read:app-system-token",
            "- manage:servicedesk-customer",
            "- read:jira-user",
        ] {
            assert!(MANIFEST.contains(needed), "{needed}");
        }
        assert_eq!(MANIFEST.matches("enabled: true").count(), 3);
    }

    #[test]
    fn the_public_url_and_app_id_are_filled_in() {
        let app = "ari:cloud:ecosystem::app/11111111-2222-3333-4444-555555555555";
        let out = render("https://bridge.acme.com/", app, false);
        assert!(out.contains("baseUrl: https://bridge.acme.com\n"), "{out}");
        assert!(out.contains(&format!("id: {app}")));
        assert!(!out.contains(PLACEHOLDER_BASE_URL));
        let unset = render("https://bridge.acme.com", "", false);
        assert!(unset.contains("app/00000000-0000-0000-0000-000000000000"));
        assert!(!unset.contains("servicedesk-request"));
        let welcome = render("https://bridge.acme.com", "", true);
        assert!(
            welcome.contains(
                "    - read:jira-user\n    - write:servicedesk-request\n    \
                 - read:servicedesk-request\n    - read:jira-work\n"
            ),
            "{welcome}"
        );
    }
}
