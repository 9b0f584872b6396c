use super::*;

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn insufficient_scope_names_every_listed_scope_space_separated() {
    assert_eq!(
        &*insufficient_scope(&scopes(&["read"]), None),
        "Bearer error=\"insufficient_scope\", scope=\"read\""
    );
    assert_eq!(
        &*insufficient_scope(&scopes(&["read", "api:write"]), None),
        "Bearer error=\"insufficient_scope\", scope=\"read api:write\""
    );
}

#[test]
fn the_scope_parameter_cannot_break_out_of_its_quotes() {
    assert_eq!(
        &*insufficient_scope(&scopes(&["a\"b", "c\\d", "e\r\nX-Evil: 1"]), None),
        "Bearer error=\"insufficient_scope\", scope=\"a\\\"b c\\\\d eX-Evil: 1\""
    );
}

#[test]
fn insufficient_scope_names_the_metadata_document_when_there_is_one() {
    assert_eq!(
        &*insufficient_scope(
            &scopes(&["read"]),
            Some("https://api.example/.well-known/oauth-protected-resource")
        ),
        "Bearer error=\"insufficient_scope\", scope=\"read\", \
         resource_metadata=\"https://api.example/.well-known/oauth-protected-resource\""
    );
}
