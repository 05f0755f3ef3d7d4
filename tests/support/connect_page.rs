//! Steps the connect-page tests share: starting a session for its page, a browser without
//! JavaScript ([`Visitor`]) that keeps its CSRF cookie and fills a form the way a plain form
//! post does, and reading where the browser landed on the platform.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::browse_to_callback;
use super::service::{Instance, PLATFORM_ORIGIN, PUBLIC_URL, World};

/// Starts a session; returns its answer (201 expected).
pub async fn session(serve: &Instance, body: Value) -> Value {
    let (status, session) = serve.start_session(body).await;
    assert_eq!(status, 201, "{session}");
    session
}

/// Starts a session; returns its connect URL (on [`PUBLIC_URL`]).
pub async fn connect_url(serve: &Instance, body: Value) -> String {
    session(serve, body).await["connect_url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Starts a session; returns its connect URL as `serve` answers it to a client that does not
/// map [`PUBLIC_URL`] to it.
pub async fn page_url(serve: &Instance, body: Value) -> String {
    serve.local(&connect_url(serve, body).await)
}

/// The `return_to` the tests give: a page of the platform, with a query of its own.
pub fn return_to() -> String {
    format!("{PLATFORM_ORIGIN}/connected?user=42")
}

/// The query of a landing URL on the platform's `/connected`, as pairs.
pub fn landing(location: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(location).unwrap();
    assert_eq!(url.origin().ascii_serialization(), PLATFORM_ORIGIN);
    assert_eq!(url.path(), "/connected");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Pairs from string slices.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The landing query of a connection made from a session with [`return_to`].
pub fn connected(provider: &str, connection_id: &str) -> Vec<(String, String)> {
    pairs(&[
        ("user", "42"),
        ("connection_id", connection_id),
        ("provider", provider),
        ("status", "connected"),
    ])
}

/// The registered redirect URI: the service's own callback.
pub fn callback_uri() -> String {
    format!("{PUBLIC_URL}/oauth/callback")
}

/// A browser without JavaScript or redirects: it keeps the CSRF cookie it was given.
pub struct Visitor {
    http: reqwest::Client,
    cookie: Option<String>,
}

/// One answer: status, headers, body (its character references read back).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl Answer {
    /// A header's value, empty when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }

    /// The value of the attribute that follows `before` (`name="csrf" value="`).
    fn attribute_after(&self, before: &str) -> String {
        let start = self
            .html
            .find(before)
            .unwrap_or_else(|| panic!("no `{before}`: {}", self.html))
            + before.len();
        let end = start + self.html[start..].find('"').unwrap();
        self.html[start..end].to_owned()
    }

    /// The form's CSRF token.
    pub fn csrf(&self) -> String {
        self.attribute_after("name=\"csrf\" value=\"")
    }

    /// The target of the page's link button.
    pub fn link(&self) -> String {
        self.attribute_after("class=\"button\" href=\"")
    }

    /// The path of the page's stylesheet.
    pub fn stylesheet(&self) -> String {
        self.attribute_after("<link rel=\"stylesheet\" href=\"")
    }

    /// The text of the element with this id (up to its first tag), empty when absent.
    pub fn text_of(&self, id: &str) -> String {
        let Some(at) = self.html.find(&format!("id=\"{id}\"")) else {
            return String::new();
        };
        let open_end = at + self.html[at..].find('>').unwrap() + 1;
        let close = open_end + self.html[open_end..].find("</").unwrap();
        self.html[open_end..close].to_owned()
    }
}

impl Visitor {
    pub fn new() -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn answer(&mut self, response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(set) = headers.get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        Answer {
            status,
            headers,
            html: unescaped(&response.text().await.unwrap()),
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    pub async fn get(&mut self, url: &str) -> Answer {
        let response = self.with_cookie(self.http.get(url)).send().await.unwrap();
        self.answer(response).await
    }

    pub async fn post(&mut self, url: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self.with_cookie(self.http.post(url).form(fields));
        let response = request.send().await.unwrap();
        self.answer(response).await
    }

    /// Submits `fields` with the CSRF token of `shown`, the page as the browser last showed it.
    pub async fn submit(&mut self, url: &str, shown: &Answer, fields: &[(&str, &str)]) -> Answer {
        let csrf = shown.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(url, &form).await
    }

    /// Opens the page at `url` and submits `fields` on it.
    pub async fn fill(&mut self, url: &str, fields: &[(&str, &str)]) -> Answer {
        let shown = self.get(url).await;
        self.submit(url, &shown, fields).await
    }

    /// Consents at the provider from `authorization_url` and follows the callback back to
    /// `serve`: its answer, where the browser goes next (303 expected).
    pub async fn come_back(
        &mut self,
        world: &World,
        serve: &Instance,
        authorization_url: &str,
    ) -> Answer {
        let callback = browse_to_callback(&world.browser, authorization_url, &callback_uri()).await;
        let landed = self.get(&serve.local(&callback)).await;
        assert_eq!(landed.status, 303, "{}", landed.html);
        landed
    }
}

/// The page with the character references its escaping writes (`/` as `&#x2f;`) read back,
/// as a browser reads them; `&amp;` last, so nothing is read twice.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
