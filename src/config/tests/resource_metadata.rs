//! The `resource_metadata` section: what is accepted, and what is refused with its line.

use super::*;

fn load_section(section: &str) -> Result<Config, String> {
    let yaml = format!("{MINIMAL}resource_metadata:\n{section}");
    load(Path::new(FILE), &yaml, Vec::new())
        .map(|loaded| loaded.config)
        .map_err(|e| e.to_string())
}

#[test]
fn absent_by_default() {
    let loaded = load(Path::new(FILE), MINIMAL, Vec::new()).unwrap();
    assert_eq!(loaded.config.resource_metadata, None);
}

#[test]
fn every_key_is_read() {
    let config = load_section(
        "  resource: \"https://api.example.com/v1\"\n  scopes_supported: [read, \"x:y\"]\n  \
         resource_name: Example\n  resource_documentation: \"https://docs.example.com\"\n",
    )
    .unwrap();
    assert_eq!(
        config.resource_metadata,
        Some(ResourceMetadataSettings {
            resource: "https://api.example.com/v1".to_owned(),
            scopes_supported: Some(vec!["read".to_owned(), "x:y".to_owned()]),
            resource_name: Some("Example".to_owned()),
            resource_documentation: Some("https://docs.example.com".to_owned()),
        })
    );
}

#[test]
fn resource_is_required() {
    let err = load_section("  resource_name: Example\n").unwrap_err();
    assert!(err.contains("missing field `resource`"), "{err}");
    assert!(err.starts_with(&format!("{FILE}:")), "{err}");
}

#[test]
fn bad_resources_are_refused_at_their_line() {
    for (resource, reason) in [
        ("http://api.example.com", "must be an https URL"),
        ("HTTPS://api.example.com", "must be an https URL"),
        ("https:api.example.com", "must be an https URL"),
        ("https:///api.example.com", "must name a host"),
        ("https://bücher.example", "must name a host"),
        ("api.example.com", "is not a URL"),
        ("https://api.example.com/?a=b", "no query or fragment"),
        ("https://api.example.com/#top", "no query or fragment"),
        ("https://user:pw@api.example.com", "user name or password"),
        ("https://api.example.com/a\\\"b", "must not contain"),
        ("https://api.example.com/a b", "must not contain"),
    ] {
        let err = load_section(&format!("  resource: \"{resource}\"\n")).unwrap_err();
        assert!(err.contains(reason), "{resource}: {err}");
        // MINIMAL has 12 lines; the section starts on line 13, `resource` is on 14.
        assert!(err.starts_with(&format!("{FILE}:14:")), "{resource}: {err}");
        assert!(!err.contains("pw@"), "{err}");
    }
}

#[test]
fn bad_scopes_and_documentation_are_refused() {
    let err = load_section(
        "  resource: \"https://a.example\"\n  scopes_supported: [ok, \"two words\"]\n",
    )
    .unwrap_err();
    assert!(err.contains("a scope is"), "{err}");
    let err = load_section("  resource: \"https://a.example\"\n  resource_documentation: docs\n")
        .unwrap_err();
    assert!(err.contains("not a usable URL"), "{err}");
}
