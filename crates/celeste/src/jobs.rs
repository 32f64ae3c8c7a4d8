//! The one polling engine for long-running provider jobs (BFL and Topaz images, videos, fal segmentation):
//! a wire module submits, then hands the [`Poller`] the job's status URL and a function that reads a
//! status reply; the poller waits, polls and reports progress until the job settles, within an
//! overall deadline.
//!
//! - The wait between polls is the API's interval, or longer when the server asks (`Retry-After`).
//! - Every job has a deadline: a job that has not settled by then is [`Error::Timeout`] with
//!   [`TimeoutPhase::Job`] (the reference waits for ever on Veo).
//! - Dropping the call's future stops polling: nothing runs in the background.
//! - Every poll and download is an HTTP request of the call's span (child spans), and goes through
//!   the transport (timeouts, retries, error bodies).
//! - The API's credentials go only to the API's own host: a result URL on another host (a CDN's
//!   presigned URL) gets none. A status poll may also go to a sibling host of the API's domain
//!   (BFL answers a submit to `api.bfl.ai` with a regional `api.us1.bfl.ai` polling URL, which
//!   wants the key); a download never does.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::error::{Error, JobError, Origin, Result, TimeoutPhase};
use crate::telemetry::CallSpan;
use crate::transport::http::{HttpRequest, RequestBody, Transport};
use crate::types::media::{JobProgress, ProgressFn};

/// What one status reply says.
#[derive(Debug)]
pub(crate) enum Poll<T> {
    /// Still running.
    Pending {
        /// The provider's status word.
        status: String,
        /// Completion between 0 and 1, when reported.
        fraction: Option<f64>,
    },
    /// Settled with a result.
    Done(T),
    /// Settled with a failure.
    Failed {
        /// The provider's status word.
        status: String,
        /// The provider's message.
        message: Option<String>,
    },
}

/// How a caller wants jobs run (each unset value takes the API's own).
#[derive(Clone, Default)]
pub(crate) struct JobOptions {
    pub interval: Option<Duration>,
    pub deadline: Option<Duration>,
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for JobOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobOptions")
            .field("interval", &self.interval)
            .field("deadline", &self.deadline)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// The setters of a call that runs a provider job (`poll_interval`, `job_deadline`, `on_progress`),
/// written once for every such builder: `job_setters!(job; "interval doc", "deadline doc")` for a
/// builder whose [`JobOptions`] sit at `self.job`. The two strings say the defaults.
macro_rules! job_setters {
    ($field:ident; $interval:literal, $deadline:literal) => {
        #[doc = concat!("How long to wait between polls of a provider job (default: ", $interval, ").")]
        pub fn poll_interval(mut self, d: std::time::Duration) -> Self {
            self.$field.interval = Some(d);
            self
        }

        #[doc = concat!("How long a provider job may run before the call gives up: ", $deadline, ".")]
        pub fn job_deadline(mut self, d: std::time::Duration) -> Self {
            self.$field.deadline = Some(d);
            self
        }

        /// Watch a provider job: `f` is called after every poll that finds it still running.
        pub fn on_progress(mut self, f: impl Fn(&$crate::types::JobProgress) + Send + Sync + 'static) -> Self {
            self.$field.progress = Some(std::sync::Arc::new(f));
            self
        }
    };
}
pub(crate) use job_setters;

/// Polls one job to its end.
pub(crate) struct Poller<'a> {
    transport: &'a Transport,
    span: &'a CallSpan,
    origin: Origin,
    /// The credentials of the API's host, and that host.
    auth: HeaderMap,
    host: Option<String>,
    /// The parent domain of the API's host (`bfl.ai` for `api.bfl.ai`), for status polls; none
    /// for an IP address or a single-label host.
    site: Option<String>,
    /// The URL the job was submitted to (the base of APIs that build their status URLs).
    api_url: String,
    options: JobOptions,
    job_id: Option<String>,
    polls: u32,
}

impl<'a> Poller<'a> {
    pub(crate) fn new(
        transport: &'a Transport,
        span: &'a CallSpan,
        origin: Origin,
        auth: HeaderMap,
        api_url: &str,
        options: JobOptions,
    ) -> Self {
        let host = host_of(api_url);
        let site = host.as_deref().and_then(parent_domain);
        Poller {
            transport,
            span,
            origin,
            auth,
            host,
            site,
            api_url: api_url.to_string(),
            options,
            job_id: None,
            polls: 0,
        }
    }

    /// The URL the job was submitted to.
    pub(crate) fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The job's id, for errors and progress.
    pub(crate) fn set_job_id(&mut self, id: impl Into<String>) {
        self.job_id = Some(id.into());
    }

    /// Poll `url` until `read` says the job settled. `interval` and `deadline` are the API's own
    /// (the caller's options win).
    pub(crate) async fn poll<T>(
        &mut self,
        url: &str,
        interval: Duration,
        deadline: Duration,
        read: impl FnMut(&[u8]) -> Result<Poll<T>>,
    ) -> Result<T> {
        self.poll_with(url, None, interval, deadline, read).await
    }

    /// [`poll`](Self::poll) for APIs whose status request is a `POST` of `body` (a JSON document),
    /// such as Vertex AI's `fetchPredictOperation`; `None` polls with `GET`.
    pub(crate) async fn poll_with<T>(
        &mut self,
        url: &str,
        body: Option<Bytes>,
        interval: Duration,
        deadline: Duration,
        mut read: impl FnMut(&[u8]) -> Result<Poll<T>>,
    ) -> Result<T> {
        let interval = self.options.interval.unwrap_or(interval);
        let limit = self.options.deadline.unwrap_or(deadline);
        let ends = Instant::now().checked_add(limit);
        let mut wait = interval;
        loop {
            if let Some(end) = ends
                && Instant::now().checked_add(wait).is_none_or(|t| t >= end)
            {
                return Err(Error::Timeout { origin: self.origin, phase: TimeoutPhase::Job, after: limit });
            }
            tokio::time::sleep(wait).await;
            // A status request cut short by the job's deadline is the job running out of time (a
            // few milliseconds of slack: timers fire at millisecond granularity).
            let (body, asked) = match self.request(url, body.clone(), ends, true).await {
                Err(Error::Timeout { phase: TimeoutPhase::Total, .. })
                    if ends.is_some_and(|e| Instant::now() + Duration::from_millis(10) >= e) =>
                {
                    return Err(Error::Timeout { origin: self.origin, phase: TimeoutPhase::Job, after: limit });
                }
                r => r?,
            };
            self.polls += 1;
            match read(&body)? {
                Poll::Done(t) => return Ok(t),
                Poll::Failed { status, message } => {
                    return Err(Error::Job(Box::new(JobError {
                        origin: self.origin,
                        job_id: self.job_id.clone(),
                        status,
                        message,
                    })));
                }
                Poll::Pending { status, fraction } => {
                    if let Some(cb) = &self.options.progress {
                        let fraction = fraction.filter(|f| f.is_finite()).map(|f| f.clamp(0.0, 1.0));
                        cb(&JobProgress { job_id: self.job_id.clone(), status, fraction, polls: self.polls });
                    }
                    // The server may ask for a longer wait, never a shorter one than the API's.
                    wait = asked.map_or(interval, |a| a.max(interval));
                }
            }
        }
    }

    /// GET `url` (a status, a result description or the result itself) within the job's deadline.
    pub(crate) async fn get(&self, url: &str) -> Result<Bytes> {
        Ok(self.request(url, None, None, false).await?.0)
    }

    async fn request(
        &self,
        url: &str,
        body: Option<Bytes>,
        deadline: Option<Instant>,
        status: bool,
    ) -> Result<(Bytes, Option<Duration>)> {
        let trusted = credentials_for(self.host.as_deref(), self.site.as_deref(), url, status);
        let headers = if trusted { self.auth.clone() } else { HeaderMap::new() };
        let (method, body) = match body {
            Some(b) => (Method::POST, RequestBody::Json(b)),
            None => (Method::GET, RequestBody::Empty),
        };
        let req = HttpRequest { method, url: url.to_string(), headers, body, total: None };
        // The sooner of the job's deadline and the client's own limit for a request.
        let deadline = match (deadline, self.transport.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let resp = self.transport.send(self.origin, &req, deadline, self.span).await?;
        let asked = crate::transport::retry::retry_after(resp.headers());
        let body = self.transport.read_body(self.origin, resp, deadline).await?;
        Ok((body, asked))
    }
}

fn host_of(url: &str) -> Option<String> {
    crate::transport::urls::parse(url).and_then(|u| u.host_str().map(str::to_string))
}

/// The parent domain of a host name (`bfl.ai` for `api.bfl.ai`). None for an IP address (IPv6
/// hosts come bracketed) or when the parent would be a single label (`ai` for `bfl.ai`).
fn parent_domain(host: &str) -> Option<String> {
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    let (_, parent) = host.split_once('.')?;
    parent.contains('.').then(|| parent.to_string())
}

/// Whether a request to `url` carries the API's credentials: one to the API's own host always; a
/// status poll also to a sibling host under the API host's parent domain.
fn credentials_for(api_host: Option<&str>, site: Option<&str>, url: &str, status: bool) -> bool {
    let Some(host) = host_of(url) else { return false };
    if api_host == Some(host.as_str()) {
        return true;
    }
    status && site.is_some_and(|site| host.strip_suffix(site).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_to_the_api_host_and_status_polls_to_its_siblings_only() {
        let api = Some("api.bfl.ai");
        let site = parent_domain("api.bfl.ai");
        assert_eq!(site.as_deref(), Some("bfl.ai"));
        let sends = |url: &str, status: bool| credentials_for(api, site.as_deref(), url, status);
        assert!(sends("https://api.bfl.ai/v1/get_result?id=1", true));
        assert!(sends("https://api.bfl.ai/v1/x", false));
        // BFL's regional polling host gets the key for polls, never for a download.
        assert!(sends("https://api.us1.bfl.ai/v1/get_result?id=1", true));
        assert!(!sends("https://delivery-us1.bfl.ai/results/sample.jpeg?sig=x", false));
        // Another domain never, even one that ends with the same letters.
        assert!(!sends("https://evilbfl.ai/v1/get_result", true));
        assert!(!sends("https://bfl.ai.evil.com/v1/get_result", true));
        assert!(!sends("https://blob.core.windows.net/x", true));
        assert!(!sends("not a url", true));
        // No parent domain for IP addresses and two-label hosts: only the exact host.
        assert_eq!(parent_domain("127.0.0.1"), None);
        assert_eq!(parent_domain("[::1]"), None);
        assert_eq!(parent_domain("localhost"), None);
        assert_eq!(parent_domain("bfl.ai"), None);
        assert!(!credentials_for(Some("127.0.0.1"), None, "http://localhost:1/x", true));
    }
}
