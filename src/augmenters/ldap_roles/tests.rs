use super::*;

const DN: &str = "CN=SomeRole,OU=TeamB,OU=TeamA,DC=example,DC=com";

fn paths(filters: &[&str]) -> RoleRule {
    RoleRule::paths(&filters.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn the_first_cn_is_the_role() {
    // Upstream's own test of its LDAP role derivation.
    assert_eq!(
        first_cn("CN=SomeRole,OU=SomeOU,DC=example"),
        Some("SomeRole")
    );
    assert_eq!(first_cn("OU=SomeOU,DC=example"), None);
    assert_eq!(first_cn("CN=First,CN=Second"), Some("First"));
}

#[test]
fn the_cn_key_is_case_insensitive() {
    // What OpenLDAP's memberof overlay returns; upstream would find no role in it.
    assert_eq!(
        first_cn("cn=SomeRole,ou=TeamB,ou=TeamA,dc=example,dc=com"),
        Some("SomeRole")
    );
    assert_eq!(first_cn("ou=x,Cn=Mixed"), Some("Mixed"));
    assert_eq!(first_cn(" CN=Spaced"), None, "no trimming, as upstream");
    assert_eq!(first_cn("CNAME=x,é=y"), None);
    assert_eq!(
        RoleRule::paths(&["OU=TeamA".into()])
            .unwrap()
            .roles("cn=R,ou=TeamA,dc=x"),
        ["/TeamA/R"]
    );
}

#[test]
fn components_are_ordered_trimmed_pairs() {
    assert_eq!(
        components(" CN=A , OU = B,,DC=c"),
        [
            ("CN".into(), "A".into()),
            ("OU".into(), "B".into()),
            ("DC".into(), "c".into())
        ]
    );
}

#[test]
fn a_filter_without_key_value_is_invalid() {
    assert!(RoleRule::paths(&["OU=TeamA".into(), "Invalid".into()]).is_err());
}

#[test]
fn single_filter_is_a_substring_test() {
    assert_eq!(RoleRule::Cn(Some("TeamA".into())).roles(DN), ["SomeRole"]);
    assert!(RoleRule::Cn(Some("teama".into())).roles(DN).is_empty());
    assert_eq!(RoleRule::Cn(None).roles(DN), ["SomeRole"]);
    assert!(RoleRule::Cn(None).roles("OU=NoCn,DC=x").is_empty());
}

#[test]
fn filters_give_hierarchical_paths() {
    assert_eq!(
        paths(&["OU=TeamA", "OU=TeamB"]).roles(DN),
        ["/TeamA/TeamB/SomeRole", "/TeamB/SomeRole"]
    );
    assert_eq!(
        paths(&["OU=TeamA,OU=TeamB"]).roles(DN),
        ["/TeamA/TeamB/SomeRole"]
    );
    assert_eq!(
        paths(&["OU=TeamB,OU=TeamA"]).roles(DN),
        ["/TeamA/TeamB/SomeRole"]
    );
    assert_eq!(paths(&["ou=teama"]).roles(DN), ["/TeamA/TeamB/SomeRole"]);
}

#[test]
fn non_contiguous_or_absent_filters_give_nothing() {
    let dn = "CN=R,OU=TeamC,OU=TeamB,OU=TeamA,DC=x";
    assert!(paths(&["OU=TeamA,OU=TeamC"]).roles(dn).is_empty());
    assert!(paths(&["OU=Nobody"]).roles(dn).is_empty());
}

#[test]
fn usernames_cannot_change_the_search_filter() {
    assert_eq!(escape_filter_value("adam"), "adam");
    assert_eq!(escape_filter_value("*)(cn=*"), "\\2a\\29\\28cn=\\2a");
    assert_eq!(escape_filter_value("a\\b\0"), "a\\5cb\\00");
}
