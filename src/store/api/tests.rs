use super::*;

const MAX: i64 = 3600;

fn routed(method: &str, path: &str, query: &str) -> Result<Route, ApiResponse> {
    route(method, path, query, MAX)
}

fn status(result: Result<Route, ApiResponse>) -> u16 {
    result.expect_err("an error answer").status
}

#[test]
fn upstream_routes_work_under_one_prefix_location() {
    assert_eq!(
        routed("GET", "/token", ""),
        Ok(Route::Create {
            status: 200,
            expires_in: None,
            description: None
        })
    );
    assert_eq!(routed("GET", "/tokens", ""), Ok(Route::List));
    assert_eq!(routed("GET", "/api/v1/tokens/", ""), Ok(Route::List));
    let secret = token::generate().unwrap().secret;
    assert_eq!(
        routed("DELETE", &format!("/token/{secret}"), ""),
        Ok(Route::Revoke(Which::Hash(token::hash(&secret))))
    );
    let id = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        routed("DELETE", &format!("/tokens/{id}"), ""),
        Ok(Route::Revoke(Which::Id(id.to_owned())))
    );
}

#[test]
fn post_takes_expiry_and_description_from_the_query() {
    assert_eq!(
        routed(
            "POST",
            "/tokens",
            "expires_in=60&description=nightly+sync%20job%21&x=1"
        ),
        Ok(Route::Create {
            status: 201,
            expires_in: Some(60),
            description: Some("nightly sync job!".to_owned())
        })
    );
    for bad in [
        "expires_in=0",
        "expires_in=-5",
        "expires_in=3601",
        "expires_in=1e3",
        "expires_in=",
    ] {
        assert_eq!(status(routed("POST", "/token", bad)), 400, "{bad}");
    }
    assert_eq!(status(routed("POST", "/token", "description=a%0Ab")), 400);
    let long = "d".repeat(201);
    assert_eq!(
        status(routed("POST", "/token", &format!("description={long}"))),
        400
    );
}

#[test]
fn wrong_methods_and_paths_are_refused() {
    let answer = routed("PUT", "/token", "").unwrap_err();
    assert_eq!((answer.status, answer.allow), (405, Some("GET, POST")));
    let answer = routed("GET", "/token/abc", "").unwrap_err();
    assert_eq!((answer.status, answer.allow), (405, Some("DELETE")));
    assert_eq!(status(routed("GET", "/tokenx", "")), 404);
    assert_eq!(status(routed("GET", "/other/thing", "")), 404);
    // Neither a token nor an id: nothing of the caller's can match it.
    assert_eq!(status(routed("DELETE", "/token/aot_short", "")), 404);
    assert_eq!(status(routed("DELETE", "/token/%ZZ", "")), 404);
}

#[test]
fn form_decoding_leaves_bad_escapes_alone() {
    assert_eq!(form_decode("a%2Bb+c"), "a+b c");
    assert_eq!(form_decode("100%"), "100%");
    assert_eq!(form_decode("%+f"), "% f");
    assert_eq!(form_decode("%zz%4"), "%zz%4");
}
