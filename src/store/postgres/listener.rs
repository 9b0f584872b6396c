//! The connection each worker keeps for `LISTEN`: outside the pool (a pooled connection is
//! shared, and a listening one must stay open), reconnected with backoff when it fails.

use std::convert::Infallible;
use std::pin::pin;

use futures::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::describe;
use crate::store::revocation::{Backoff, ListenerEvent, Notice, CHANNEL};

/// Listens until the future is dropped (the worker's runtime stops, which closes the socket).
pub async fn listen(
    config: tokio_postgres::Config,
    mut report: Box<dyn FnMut(ListenerEvent) + Send>,
) {
    let mut backoff = Backoff::default();
    loop {
        let Err(reason) = session(&config, &mut report, &mut backoff).await;
        report(ListenerEvent::Lost(reason));
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

/// One connection, from connecting to its failure.
async fn session(
    config: &tokio_postgres::Config,
    report: &mut Box<dyn FnMut(ListenerEvent) + Send>,
    backoff: &mut Backoff,
) -> Result<Infallible, String> {
    let (client, mut connection) = config.connect(NoTls).await.map_err(|e| describe(&e))?;
    // The connection only makes progress while its messages are polled, the answer to LISTEN
    // included, so both are polled together.
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let statement = format!("LISTEN {CHANNEL}");
    let mut subscribe = pin!(client.batch_execute(&statement));
    let mut listening = false;
    loop {
        tokio::select! {
            subscribed = &mut subscribe, if !listening => {
                subscribed.map_err(|e| describe(&e))?;
                listening = true;
                backoff.reset();
                report(ListenerEvent::Listening);
            }
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(n))) if n.channel() == CHANNEL => {
                    report(ListenerEvent::Revoked(Notice::parse(n.payload())));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(describe(&e)),
                None => return Err("PostgreSQL closed the connection".to_owned()),
            },
        }
    }
}
