//! The one exception to "never follow a redirect": a webhook whose plan says
//! `followRedirects: sameOrigin`. Only a 307 or 308 (which keep the method and the body) to the
//! same scheme, host and port as the webhook's URL is followed, at most [`MAX_HOPS`] times;
//! anything else — a 301/302/303 that would turn a POST into a GET, another origin, an
//! `https` → `http` downgrade — stops, and the 3xx is reported like any other redirect. The
//! headers (secrets included) therefore never leave the origin the plan named.

/// Hops followed before giving up.
pub const MAX_HOPS: usize = 5;

/// A client with the shared policy, except that it follows same-origin 307/308 redirects.
pub fn same_origin_client() -> reqwest::Client {
    super::builder()
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let keeps_method = matches!(attempt.status().as_u16(), 307 | 308);
            let first = attempt.previous().first().map(reqwest::Url::origin);
            let same = first.is_some_and(|o| o == attempt.url().origin());
            if keeps_method && same && attempt.previous().len() <= MAX_HOPS {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .expect("an HTTP client without TLS files always builds")
}

#[cfg(test)]
mod tests {
    use axum::http::{header::LOCATION, HeaderMap, Method, StatusCode};
    use axum::routing::any;
    use axum::Router;

    use super::*;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn only_same_origin_307_and_308_are_followed() {
        let other =
            serve(Router::new().route("/ok", any(|| async { (StatusCode::OK, "stolen") }))).await;
        let away = format!("{other}/ok");
        let app = Router::new()
            .route(
                "/ok",
                any(|m: Method, h: HeaderMap| async move {
                    format!(
                        "{m} {}",
                        h.get("x-api-key").map_or("", |v| v.to_str().unwrap())
                    )
                }),
            )
            .route(
                "/keep",
                any(|| async { (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, "/ok")]) }),
            )
            .route(
                "/perm",
                any(|| async { (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "/ok")]) }),
            )
            .route(
                "/found",
                any(|| async { (StatusCode::FOUND, [(LOCATION, "/ok")]) }),
            )
            .route(
                "/loop",
                any(|| async { (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, "/loop")]) }),
            )
            .route(
                "/away",
                any(move || {
                    let away = away.clone();
                    async move { (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, away)]) }
                }),
            );
        let base = serve(app).await;
        let client = same_origin_client();
        let post = |path: &str| {
            client
                .post(format!("{base}{path}"))
                .header("x-api-key", "k3y")
                .body("{}")
                .send()
        };
        for path in ["/keep", "/perm"] {
            let resp = post(path).await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            assert_eq!(
                resp.text().await.unwrap(),
                "POST k3y",
                "{path}: method and headers kept"
            );
        }
        for (path, status) in [("/found", 302), ("/away", 307), ("/loop", 307)] {
            let resp = post(path).await.unwrap();
            assert_eq!(resp.status(), status, "{path} is not followed");
        }
    }
}
