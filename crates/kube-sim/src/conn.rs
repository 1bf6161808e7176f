//! Connections a handler can abort: the `Reset` and `LoseAnswer` faults.
//!
//! axum's `serve` owns the accept loop and hyper's connection driver, so a handler cannot drop
//! its own connection. [`Listener`] wraps each accepted socket in a [`ConnIo`] and hands the
//! handler a [`ConnHandle`] through `ConnectInfo`. [`ConnHandle::reset`] sets `SO_LINGER=0` on the
//! socket and makes every later read, write and flush fail. hyper then gives up on the
//! connection before any byte of the answer reaches the socket and drops it; closing a socket
//! with a zero linger makes the kernel send a TCP RST instead of a FIN, so the client sees
//! "connection reset" with no answer at all.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections can be reset by the request handler.
pub(crate) struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = ConnIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (ConnIo, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let ctl = Arc::new(Ctl::default());
                    return (ConnIo { stream, ctl }, peer);
                }
                // EMFILE and friends: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

#[derive(Default)]
struct Ctl {
    reset: AtomicBool,
    /// The task blocked reading the socket, woken so hyper sees the reset at once.
    reader: Mutex<Option<Waker>>,
}

/// An accepted socket that fails every operation once its [`ConnHandle`] was reset.
pub(crate) struct ConnIo {
    stream: TcpStream,
    ctl: Arc<Ctl>,
}

impl ConnIo {
    fn check(&self) -> io::Result<()> {
        if self.ctl.reset.load(Ordering::SeqCst) {
            // Zero linger: the close that follows sends a RST, not a FIN.
            let _ = self.stream.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "kube-sim: connection reset by a fault",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.check()?;
        *me.ctl.reader.lock().expect("conn lock") = Some(cx.waker().clone());
        Pin::new(&mut me.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.check()?;
        Pin::new(&mut me.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.check()?;
        Pin::new(&mut me.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.check()?;
        Pin::new(&mut me.stream).poll_shutdown(cx)
    }
}

/// The handler's handle on the connection its request arrived on (`ConnectInfo`).
#[derive(Clone)]
pub(crate) struct ConnHandle(Arc<Ctl>);

impl ConnHandle {
    /// Abort the connection with a TCP RST; nothing more is read or written on it.
    pub(crate) fn reset(&self) {
        self.0.reset.store(true, Ordering::SeqCst);
        if let Some(w) = self.0.reader.lock().expect("conn lock").take() {
            w.wake();
        }
    }
}

impl Connected<IncomingStream<'_, Listener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        ConnHandle(stream.io().ctl.clone())
    }
}
