//! Secrets and TLS.

use super::*;

// ---------------------------------------------------------------------------------------------
// 7. Secrets and TLS
// ---------------------------------------------------------------------------------------------

/// The admin token never appears at `-vvv` with `BGCTL_LOG=trace`, nor in error paths (401,
/// 5xx after retries, an unreachable Admin API).
#[tokio::test(flavor = "multi_thread")]
async fn admin_token_never_printed_at_trace_level_or_in_errors() {
    let token = "tOkEn-9f8e7d6c5b4a";
    let stack = Stack::with_config(SimConfig {
        admin_token: Some(token.into()),
        ..SimConfig::default()
    })
    .await;
    let plan = bg_plan(&stack, "blue", &[REQUEST_TIMEOUT]);
    let trace = [("KONG_ADMIN_TOKEN", token), ("BGCTL_LOG", "trace")];
    let mut texts = Vec::new();
    let (out, _) = spawn(
        &stack,
        &["-vvv", "plan", "apply", "--yes", p(&plan)],
        &trace,
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        stderr(&out).contains("TRACE") || stderr(&out).contains("DEBUG"),
        "trace logging is on"
    );
    texts.push(render(&out));
    stack.sim.faults().add(FaultRule {
        method: None,
        path: "*".into(),
        skip: 0,
        times: 100,
        action: status_fault(500, None),
    });
    let (out, _) = spawn(
        &stack,
        &["-vvv", "--timeout", "5s", "status", "-f", p(&plan)],
        &trace,
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    stack.sim.faults().clear();
    let (out, _) = spawn(
        &stack,
        &[
            "-vvv",
            "-o",
            "json",
            "switch",
            "--to",
            "green",
            "--yes",
            "-f",
            p(&plan),
        ],
        &[("KONG_ADMIN_TOKEN", "wrong-9f8e"), ("BGCTL_LOG", "trace")],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    let (out, _) = spawn(
        &stack,
        &["-vvv", "--timeout", "3s", "status", "-f", p(&plan)],
        &[
            ("KONG_ADMIN_TOKEN", token),
            ("BGCTL_LOG", "trace"),
            ("KONG_ADMIN_URL", "http://127.0.0.1:9"),
        ],
    )
    .wait(Duration::from_mins(1))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    texts.push(render(&out));
    for text in texts {
        assert!(
            !text.contains(token) && !text.contains("wrong-9f8e"),
            "token leaked:\n{text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}

mod pki {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::server::WebPkiClientVerifier;
    use tokio_rustls::rustls::{RootCertStore, ServerConfig};
    use tokio_rustls::TlsAcceptor;

    /// PEM files of a test PKI.
    pub struct Pki {
        pub ca: PathBuf,
        pub other_ca: PathBuf,
        pub server_cert: String,
        pub server_key: String,
        pub client_cert: PathBuf,
        pub client_key: PathBuf,
    }

    fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        (params, key, pem)
    }

    pub fn pki(dir: &Path) -> Pki {
        let (ca_params, ca_key, ca_pem) = ca("bgctl test CA");
        let (_, _, other_pem) = ca("some other CA");
        let issuer = Issuer::from_params(&ca_params, &ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        let mut client_params = CertificateParams::new(vec!["bgctl-client".to_string()]).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "bgctl-client");
        let client_key = KeyPair::generate().unwrap();
        let client = client_params.signed_by(&client_key, &issuer).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Pki {
            ca: write("ca.pem", &ca_pem),
            other_ca: write("other-ca.pem", &other_pem),
            server_cert: server.pem(),
            server_key: server_key.serialize_pem(),
            client_cert: write("client.pem", &client.pem()),
            client_key: write("client-key.pem", &client_key.serialize_pem()),
        }
    }

    /// A TLS-terminating proxy on 127.0.0.1:0 in front of `upstream`; counts the handshakes that
    /// completed (with a client certificate when `client_ca` is set).
    pub async fn proxy(
        pki: &Pki,
        upstream: std::net::SocketAddr,
        client_ca: bool,
    ) -> (String, Arc<AtomicUsize>) {
        let certs = vec![CertificateDer::from_pem_slice(pki.server_cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap();
        let builder = ServerConfig::builder();
        let config = if client_ca {
            let mut roots = RootCertStore::empty();
            let ca = std::fs::read(&pki.ca).unwrap();
            roots
                .add(CertificateDer::from_pem_slice(&ca).unwrap())
                .unwrap();
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .unwrap();
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)
                .unwrap()
        } else {
            builder
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap()
        };
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let ok = Arc::new(AtomicUsize::new(0));
        let count = ok.clone();
        tokio::spawn(async move {
            // Bounded by the test: the task ends when the runtime does.
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::Relaxed);
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        (url, ok)
    }
}

fn admin_addr(stack: &Stack) -> std::net::SocketAddr {
    stack
        .sim
        .admin_url()
        .trim_start_matches("http://")
        .parse()
        .expect("addr")
}

/// HTTPS Admin API: an unknown CA fails with a clear error and exit 1; `tls.caFile` makes it
/// pass; `insecureSkipVerify` works and warns on every run, `-q` and `-o json` included.
#[tokio::test(flavor = "multi_thread")]
async fn https_admin_verifies_certificates_by_default() {
    let stack = Stack::start().await;
    let pki = pki::pki(stack.dir.path());
    let (url, handshakes) = pki::proxy(&pki, admin_addr(&stack), false).await;
    let https = [("KONG_ADMIN_URL", url.as_str())];
    let status = |plan: PathBuf, extra: &'static [&'static str]| {
        let mut args: Vec<String> = extra.iter().map(ToString::to_string).collect();
        args.extend([
            "status".into(),
            "--no-probe".into(),
            "-f".into(),
            p(&plan).to_string(),
        ]);
        args
    };
    let plain = bg_plan(&stack, "blue", &[]);
    let args = status(plain, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    let err = stderr(&out);
    assert!(
        err.contains("certificate") && err.contains("tls.caFile"),
        "a clear error naming the fix: {err}"
    );
    assert_eq!(handshakes.load(Ordering::Relaxed), 0);

    let wrong = write_plan(
        &stack,
        "wrong-ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.other_ca))],
    );
    let args = status(wrong, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "another CA does not vouch for it: {}",
        render(&out)
    );

    let with_ca = write_plan(
        &stack,
        "ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.ca))],
    );
    let args = status(with_ca, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = spawn(&stack, &args, &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(handshakes.load(Ordering::Relaxed) >= 1);
    assert!(!stderr(&out).contains("insecureSkipVerify"));

    let insecure = write_plan(
        &stack,
        "insecure.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &["tls: {insecureSkipVerify: true}"],
    );
    for extra in [&[][..], &["-q"][..], &["-o", "json"][..]] {
        let args = status(insecure.clone(), extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, _) = spawn(&stack, &args, &https)
            .wait(Duration::from_mins(1))
            .await;
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", render(&out));
        assert!(
            stderr(&out).contains("warning: `provider.kong.tls.insecureSkipVerify`"),
            "{extra:?}: a warning on every run: {}",
            render(&out)
        );
    }
}

/// Mutual TLS: a server that requires a client certificate refuses a run without one (exit 1)
/// and accepts `tls.certFile`/`tls.keyFile`.
#[tokio::test(flavor = "multi_thread")]
async fn https_admin_presents_client_certificates() {
    let stack = Stack::start().await;
    let pki = pki::pki(stack.dir.path());
    let (url, handshakes) = pki::proxy(&pki, admin_addr(&stack), true).await;
    let https = [("KONG_ADMIN_URL", url.as_str())];
    let ca_only = write_plan(
        &stack,
        "ca.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!("tls: {{caFile: '{}'}}", p(&pki.ca))],
    );
    let (out, _) = spawn(&stack, &["status", "--no-probe", "-f", p(&ca_only)], &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert_eq!(handshakes.load(Ordering::Relaxed), 0);
    let mtls = write_plan(
        &stack,
        "mtls.yaml",
        "seed.yaml",
        &[("ACTIVE", "blue")],
        &[&format!(
            "tls: {{caFile: '{}', certFile: '{}', keyFile: '{}'}}",
            p(&pki.ca),
            p(&pki.client_cert),
            p(&pki.client_key)
        )],
    );
    let (out, _) = spawn(&stack, &["plan", "apply", "--yes", p(&mtls)], &https)
        .wait(Duration::from_mins(1))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert!(
        handshakes.load(Ordering::Relaxed) >= 1,
        "the client certificate was accepted"
    );
    assert_eq!(host(&stack).await.as_deref(), Some(BLUE_UP));
}
