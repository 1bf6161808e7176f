//! Listeners: our own accept loop over hyper's HTTP/1.1 connection driver.
//!
//! Owning the accept loop (rather than using axum's `serve`) lets a handler end its own
//! connection: `Conn::close` drops it (FIN, used by the `hang` fault after its delay) and
//! `Conn::reset` sets `SO_LINGER=0` on a duplicate of the socket before dropping it, so the
//! kernel sends a TCP RST (the `reset` fault). Every accepted socket gets `TCP_NODELAY`,
//! HTTP/1.1 keep-alive is on, and listeners use a 1024-deep backlog (see real-gateways.md,
//! "Test harness": without these a local benchmark is ~100x slower).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = BoxBody<Bytes, BodyError>;
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
pub(crate) type Handler = Arc<dyn Fn(Request<Incoming>, Conn) -> HandlerFuture + Send + Sync>;

/// A complete in-memory body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// Handle on the TCP connection a request arrived on.
#[derive(Clone)]
pub(crate) struct Conn {
    inner: Arc<ConnInner>,
    pub(crate) peer: SocketAddr,
}

struct ConnInner {
    notify: Notify,
    reset: AtomicBool,
}

impl Conn {
    /// Close the connection without answering (FIN).
    pub(crate) fn close(&self) {
        self.inner.notify.notify_one();
    }

    /// Abort the connection with a TCP RST.
    pub(crate) fn reset(&self) {
        self.inner.reset.store(true, Ordering::SeqCst);
        self.inner.notify.notify_one();
    }
}

/// Bind a listener with a large backlog.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Run the accept loop until `shutdown` changes or its sender is dropped.
pub(crate) fn spawn(
    listener: TcpListener,
    handler: Handler,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = shutdown.clone();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        tokio::spawn(serve_conn(stream, peer, handler.clone(), shutdown.clone()));
                    }
                    // EMFILE and friends: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                _ = stop.changed() => break,
            }
        }
    })
}

async fn serve_conn(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Handler,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // Keep a second descriptor of the socket: setting SO_LINGER=0 on it and closing it last
    // turns the close into a RST.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let Ok(dup) = std_stream.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let conn = Conn {
        inner: Arc::new(ConnInner {
            notify: Notify::new(),
            reset: AtomicBool::new(false),
        }),
        peer,
    };
    let for_service = conn.clone();
    let service = service_fn(move |req| {
        let fut = handler(req, for_service.clone());
        async move { Ok::<_, Infallible>(fut.await) }
    });
    let served = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = served => {}
        () = conn.inner.notify.notified() => {
            if conn.inner.reset.load(Ordering::SeqCst) {
                let _ = socket2::SockRef::from(&dup).set_linger(Some(Duration::ZERO));
            }
        }
        _ = shutdown.changed() => {}
    }
    drop(dup);
}
