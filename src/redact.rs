//! The one place secrets are removed from text, and server-supplied text is made safe to print.
//!
//! Two jobs, both applied at the few places bgctl writes anything (the error renderer, the text
//! and JSON event renderers, the status view and the log writer), so no caller has to remember:
//!
//! - **Redaction.** The plan loader registers every configured secret value ([`register`]):
//!   header values, URL passwords (and a user name standing alone, 8 characters or more, as
//!   tokens are written), the values of secret-looking query parameters and keys
//!   (`token`, `password`, `apiKey`, …). [`redact`] replaces each registered value, and any
//!   `scheme://user:pass@` userinfo it finds, with `<redacted>`. Values shorter than
//!   [`MIN_SECRET`] characters are not registered: replacing every `1` in the output would hide
//!   more than it protects, and such values are not secrets.
//! - **Sanitising.** Text a server sent (a Kong `message`, a webhook body, an HAProxy reply) may
//!   carry escape sequences that move the cursor or set the window title, newlines that forge
//!   `done:` lines, or megabytes. [`server_text`] turns it into one line without control
//!   characters, capped in length; [`terminal`] is the last filter before a terminal: it keeps
//!   newlines and the SGR colour codes bgctl itself emits and removes every other control
//!   character and escape sequence.
//!
//! The registry is process-wide (secrets only accumulate; `run` may be called twice).

use std::borrow::Cow;
use std::sync::RwLock;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";
/// Shortest value treated as a secret.
pub const MIN_SECRET: usize = 4;
/// Longest server text shown in one message (characters).
pub const SERVER_TEXT_MAX: usize = 300;
/// Longest single line bgctl prints for a message (characters).
pub const LINE_MAX: usize = 4000;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Query parameter and key names whose values are treated as secrets (compared in lower case,
/// without `-` and `_`).
const SECRET_KEYS: &[&str] = &[
    "token",
    "accesstoken",
    "apikey",
    "key",
    "secret",
    "clientsecret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "auth",
    "authorization",
    "signature",
    "sig",
    "credential",
    "credentials",
    "session",
    "sessionid",
    "privatekey",
];

/// Whether a key or query parameter name looks like it holds a secret.
pub fn is_secret_key(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEYS.contains(&norm.as_str())
        || norm.ends_with("token")
        || norm.ends_with("secret")
        || norm.ends_with("password")
        || norm.ends_with("apikey")
}

/// Registers a secret value (and its percent-encoded and JSON-escaped forms, which is how it
/// may appear in URLs and `-o json`).
pub fn register(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_SECRET
        || ["true", "false", "null"].contains(&value.to_ascii_lowercase().as_str())
    {
        return;
    }
    let mut forms = vec![value.to_string()];
    let encoded = percent_encode(value);
    if encoded != value {
        forms.push(encoded);
    }
    if let Ok(json) = serde_json::to_string(value) {
        let inner = &json[1..json.len() - 1];
        if inner != value {
            forms.push(inner.to_string());
        }
    }
    let mut secrets = SECRETS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for f in forms {
        if !secrets.contains(&f) {
            secrets.push(f);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the secret parts of a URL-like string: userinfo (user and password) and the
/// values of secret-looking query parameters. Works on text that is not a valid URL too
/// (a literal `${` in the userinfo).
pub fn register_url(text: &str) {
    let Some(scheme_end) = text.find("://") else {
        return;
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        match userinfo.split_once(':') {
            // A user name beside a password is not the secret (and `admin` must not vanish
            // from every message).
            Some((_, pass)) => {
                register(userinfo);
                register(pass);
                register(&percent_decode(pass));
            }
            // A lone user name is often a token (`https://<token>@host`).
            None if userinfo.chars().count() >= 8 => register(userinfo),
            None => {}
        }
    }
    if let Some(q) = text.find('?') {
        let query = text[q + 1..].split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if is_secret_key(&percent_decode(k)) {
                    register(v);
                    register(&percent_decode(v));
                }
            }
        }
    }
}

/// A URL for output: userinfo and secret-looking query values replaced, registered secrets
/// removed.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            out = format!(
                "{}{REDACTED}@{}",
                &out[..scheme_end + 3],
                &out[scheme_end + 3 + at + 1..]
            );
        }
    }
    if let Some(q) = out.find('?') {
        let (head, tail) = out.split_at(q + 1);
        let (query, fragment) = match tail.find('#') {
            Some(h) => tail.split_at(h),
            None => (tail, ""),
        };
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_key(&percent_decode(k)) => format!("{k}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}{fragment}", query.join("&"));
    }
    redact(&out).into_owned()
}

/// `text` with every registered secret and every URL userinfo replaced by `<redacted>`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), REDACTED));
        }
    }
    drop(secrets);
    if out.contains("://") && out.contains('@') {
        out = Cow::Owned(redact_userinfo(&out));
    }
    out
}

/// Replaces `scheme://userinfo@` in free text.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '`')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str(REDACTED);
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

/// Server-supplied text made printable: one line, control characters (and Unicode bidi
/// overrides) replaced by spaces, runs of whitespace collapsed, at most `max` characters (an
/// ellipsis marks a cut), secrets redacted.
pub fn server_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut space = false;
    let mut cut = false;
    // Look at a bounded prefix: a 50 MB message costs no more than a short one.
    for c in text.chars().take(max.saturating_mul(4).max(64)) {
        let c = if is_unsafe(c) || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if count >= max {
            cut = true;
            break;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(c);
        count += 1;
    }
    if cut || text.chars().nth(max.saturating_mul(4).max(64)).is_some() {
        out.push('…');
    }
    redact(&out).into_owned()
}

/// Control characters and the invisible characters that reorder text on a terminal.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The last filter before a terminal or pipe: secrets redacted; newlines, tabs and SGR colour
/// sequences (`ESC [ … m`, what bgctl's own styling emits) kept; every other control character
/// and escape sequence removed; each line capped at [`LINE_MAX`] characters.
pub fn terminal(text: &str) -> String {
    let text = redact(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut line_len = 0usize;
    while let Some(c) = chars.next() {
        if c == '\n' {
            out.push(c);
            line_len = 0;
            continue;
        }
        if c == '\x1b' {
            // Keep `ESC [ digits;… m`; drop any other sequence whole (a CSI up to its final
            // byte; for other escapes the ESC alone, the rest is then plain text).
            if chars.peek() == Some(&'[') {
                chars.next();
                let mut params = String::new();
                let mut last = None;
                for d in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&d) {
                        last = Some(d);
                        break;
                    }
                    params.push(d);
                    if params.len() > 32 {
                        break;
                    }
                }
                if last == Some('m') && params.chars().all(|d| d.is_ascii_digit() || d == ';') {
                    out.push_str("\x1b[");
                    out.push_str(&params);
                    out.push('m');
                }
            }
            continue;
        }
        if (is_unsafe(c) && c != '\t') || line_len >= LINE_MAX {
            if line_len == LINE_MAX {
                out.push('…');
                line_len += 1;
            }
            continue;
        }
        out.push(c);
        line_len += 1;
    }
    out
}

/// A value as one line of JSON with every string in it redacted (JSON escapes control
/// characters itself). Strings are redacted one at a time, in their escaped form (the escaped
/// form of each secret is registered too), so a secret that looks like JSON syntax (`true`,
/// a key name) cannot break the line; key order is kept.
pub fn json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let text = serde_json::to_string(value)?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    // Outside strings there is only JSON syntax; find each string literal and redact its body.
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        let mut escaped = false;
        let mut close = body.len();
        for (i, b) in body.bytes().enumerate() {
            match b {
                b'\\' if !escaped => escaped = true,
                b'"' if !escaped => {
                    close = i;
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str(&redact(&body[..close]));
        rest = &body[close..];
        if let Some(tail) = rest.strip_prefix('"') {
            out.push('"');
            rest = tail;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `text` as one line for a message bgctl prints (newlines and control characters folded),
/// secrets redacted. For headlines, causes and hints.
pub fn one_line(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| if is_unsafe(c) { ' ' } else { c })
        .take(LINE_MAX + 1)
        .collect();
    let mut out = redact(&folded).into_owned();
    if out.chars().count() > LINE_MAX {
        out = out.chars().take(LINE_MAX).collect::<String>() + "…";
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A `tracing` writer: each log event is redacted and filtered by [`terminal`] before it
/// reaches stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

/// One log event being written.
#[derive(Debug, Default)]
pub struct LogLine(Vec<u8>);

impl std::io::Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A runaway log field cannot grow this without bound.
        let room = (LINE_MAX * 4).saturating_sub(self.0.len());
        self.0.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = terminal(&String::from_utf8_lossy(&self.0));
        let mut err = std::io::stderr().lock();
        let _ = std::io::Write::write_all(&mut err, text.as_bytes());
        if !text.ends_with('\n') {
            let _ = std::io::Write::write_all(&mut err, b"\n");
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_and_their_encodings_are_redacted() {
        register("s3cr3t/Value+1");
        let t = redact("a s3cr3t/Value+1 b s3cr3t%2FValue%2B1 c");
        assert_eq!(t, "a <redacted> b <redacted> c");
        register("ab");
        assert_eq!(redact("ab cd"), "ab cd", "short values are not secrets");
    }

    #[test]
    fn urls_lose_userinfo_and_secret_query_values() {
        assert_eq!(
            redact_url("https://u:p4ss@h.example/x?token=abc&page=2#f"),
            "https://<redacted>@h.example/x?token=<redacted>&page=2#f"
        );
        assert_eq!(
            redact("see http://me:pw${X}@host/a and more"),
            "see http://<redacted>@host/a and more"
        );
        register_url("http://hooks.example/x?api_key=KEY123456&n=1");
        assert_eq!(redact("called KEY123456"), "called <redacted>");
        assert!(is_secret_key("X-Api-Key") && is_secret_key("access_token"));
        assert!(!is_secret_key("page"));
    }

    #[test]
    fn server_text_is_one_short_line() {
        let t = server_text("ok\x1b]0;pwned\x07\ndone: `blue` is live\r\n\u{202e}x", 300);
        assert!(!t.chars().any(char::is_control), "{t:?}");
        assert_eq!(t, "ok ]0;pwned done: `blue` is live x");
        let big = "x".repeat(50_000_000);
        let t = server_text(&big, 10);
        assert_eq!(t, "xxxxxxxxxx…");
    }

    #[test]
    fn terminal_keeps_colour_and_newlines_only() {
        let t = terminal("\x1b[32mdone:\x1b[0m a\x1b]0;title\x07b\x1b[2Jc\rd\n e");
        assert_eq!(t, "\x1b[32mdone:\x1b[0m a]0;titlebcd\n e");
        let long = "y".repeat(LINE_MAX + 10);
        assert_eq!(terminal(&long).chars().count(), LINE_MAX + 1);
    }
}
