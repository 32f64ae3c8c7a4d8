//! Server-side state of the image and video APIs: asynchronous jobs (BFL, Topaz, Veo, xAI and
//! BytePlus videos) with their poll counts, and the files the emulator serves (BFL samples, Topaz
//! downloads, BytePlus and xAI image URLs, videos).
//!
//! Everything lives for the emulator's lifetime; the images are a few hundred bytes each.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::config::JobFailure;
use crate::image::Format;

/// Where a job is in its lifecycle, as its last answered poll reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Submitted, or polled fewer times than its scripted pending polls.
    Pending,
    /// The result is ready.
    Ready,
    /// The job failed with the scripted failure.
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Ready => "ready",
            JobState::Failed => "failed",
        }
    }
}

/// A snapshot of one asynchronous job, for tests (see [`Emulator::job`](crate::Emulator::job))
/// and `GET /_emulator/jobs/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// The job id (BFL `id`, Topaz `process_id`).
    pub id: String,
    /// `"bfl"` or `"topazlabs"`.
    pub provider: String,
    /// The model named by the submit request.
    pub model: Option<String>,
    /// Requests received at the job's status URL, including those an injected fault answered.
    pub polls: u64,
    /// Polls answered from the job's state (faulted polls excluded): these advance the lifecycle.
    pub answered_polls: u64,
    /// How many answered polls report the job as pending before it settles.
    pub pending_polls: u32,
    /// The state the last answered poll reported.
    pub state: JobState,
    /// Requests for the result image itself (`GET` or `HEAD` of its URL).
    pub downloads: u64,
}

impl JobInfo {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "polls": self.polls,
            "answered_polls": self.answered_polls,
            "pending_polls": self.pending_polls,
            "state": self.state.as_str(),
            "downloads": self.downloads,
        })
    }
}

/// A job being tracked.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub provider: &'static str,
    pub model: Option<String>,
    pub created: u64,
    pub pending_polls: u32,
    pub failure: Option<JobFailure>,
    pub retry_after: Option<String>,
    /// The URL of the result file, served from the [`Store`].
    pub file: String,
    pub format: Format,
    /// Provider-specific facts echoed by the status answers (prompt, seed, input size...).
    pub extra: Value,
    polls: u64,
    answered: u64,
    downloads: u64,
}

impl Job {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        provider: &'static str,
        model: Option<String>,
        created: u64,
        pending_polls: u32,
        failure: Option<JobFailure>,
        retry_after: Option<String>,
        file: String,
        format: Format,
    ) -> Job {
        Job {
            provider,
            model,
            created,
            pending_polls,
            failure,
            retry_after,
            file,
            format,
            extra: Value::Null,
            polls: 0,
            answered: 0,
            downloads: 0,
        }
    }

    fn state(&self) -> JobState {
        if self.answered <= u64::from(self.pending_polls) {
            JobState::Pending
        } else if self.failure.is_some() {
            JobState::Failed
        } else {
            JobState::Ready
        }
    }

    /// The fraction of the scripted pending polls answered so far (0 before the first poll).
    pub fn progress(&self) -> f64 {
        if self.pending_polls == 0 {
            return 1.0;
        }
        (self.answered.saturating_sub(1) as f64 / f64::from(self.pending_polls)).min(1.0)
    }
}

/// What one answered poll sees.
#[derive(Debug, Clone)]
pub(crate) struct PollView {
    pub job: Job,
    pub state: JobState,
}

/// A stored file.
#[derive(Debug)]
struct File {
    bytes: Bytes,
    mime: &'static str,
    job: Option<String>,
}

/// Jobs and files, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Store {
    jobs: Mutex<HashMap<String, Job>>,
    files: Mutex<HashMap<String, File>>,
}

impl Store {
    /// Stores a file and returns its id.
    pub fn add_file(&self, id: String, bytes: Vec<u8>, format: Format, job: Option<String>) -> String {
        let file = File { bytes: Bytes::from(bytes), mime: format.mime(), job };
        self.files.lock().expect("files lock").insert(id.clone(), file);
        id
    }

    /// Stores a file of another kind than an image (an MP4) under `id`.
    pub fn add_file_as(&self, id: String, bytes: Vec<u8>, mime: &'static str, job: Option<String>) {
        let file = File { bytes: Bytes::from(bytes), mime, job };
        self.files.lock().expect("files lock").insert(id, file);
    }

    /// A file's bytes and MIME type; counts a download on its job.
    pub fn download(&self, id: &str) -> Option<(Bytes, &'static str)> {
        let (bytes, mime, job) = {
            let files = self.files.lock().expect("files lock");
            let f = files.get(id)?;
            (f.bytes.clone(), f.mime, f.job.clone())
        };
        if let Some(job) = job
            && let Some(j) = self.jobs.lock().expect("jobs lock").get_mut(&job)
        {
            j.downloads += 1;
        }
        Some((bytes, mime))
    }

    pub fn add_job(&self, id: String, job: Job) {
        self.jobs.lock().expect("jobs lock").insert(id, job);
    }

    /// Counts a request at a job's status URL (whatever answers it). Returns whether the job
    /// exists.
    pub fn count_poll(&self, id: &str) -> bool {
        match self.jobs.lock().expect("jobs lock").get_mut(id) {
            Some(j) => {
                j.polls += 1;
                true
            }
            None => false,
        }
    }

    /// Answers a poll from the job's state, advancing its lifecycle.
    pub fn answer_poll(&self, id: &str) -> Option<PollView> {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        let job = jobs.get_mut(id)?;
        job.answered += 1;
        Some(PollView { state: job.state(), job: job.clone() })
    }

    /// A job as it stands, without polling it.
    pub fn peek(&self, id: &str) -> Option<PollView> {
        let jobs = self.jobs.lock().expect("jobs lock");
        let job = jobs.get(id)?;
        Some(PollView { state: job.state(), job: job.clone() })
    }

    pub fn info(&self, id: &str) -> Option<JobInfo> {
        self.jobs.lock().expect("jobs lock").get(id).map(|j| info(id, j))
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Vec<JobInfo> {
        let jobs = self.jobs.lock().expect("jobs lock");
        let mut list: Vec<(u64, JobInfo)> = jobs.iter().map(|(id, j)| (j.created, info(id, j))).collect();
        list.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        list.into_iter().map(|(_, i)| i).collect()
    }
}

fn info(id: &str, j: &Job) -> JobInfo {
    JobInfo {
        id: id.to_string(),
        provider: j.provider.to_string(),
        model: j.model.clone(),
        polls: j.polls,
        answered_polls: j.answered,
        pending_polls: j.pending_polls,
        state: j.state(),
        downloads: j.downloads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(pending: u32, failure: Option<JobFailure>) -> Job {
        Job::new("bfl", None, 0, pending, failure, None, "f".into(), Format::Png)
    }

    #[test]
    fn lifecycle_counts_answered_polls() {
        let store = Store::default();
        store.add_job("a".into(), job(2, None));
        assert_eq!(store.info("a").unwrap().state, JobState::Pending);
        for _ in 0..2 {
            assert!(store.count_poll("a"));
            assert_eq!(store.answer_poll("a").unwrap().state, JobState::Pending);
        }
        assert!(store.count_poll("a"));
        assert!(store.count_poll("a")); // a faulted poll: counted, not answered
        assert_eq!(store.answer_poll("a").unwrap().state, JobState::Ready);
        let info = store.info("a").unwrap();
        assert_eq!((info.polls, info.answered_polls), (4, 3));
        assert!(!store.count_poll("missing"));
    }

    #[test]
    fn failures_settle_after_the_pending_polls() {
        let store = Store::default();
        store.add_job("b".into(), job(0, Some(JobFailure { status: None, message: "no".into() })));
        assert_eq!(store.answer_poll("b").unwrap().state, JobState::Failed);
    }

    #[test]
    fn downloads_are_counted_on_the_job() {
        let store = Store::default();
        store.add_job("c".into(), job(0, None));
        store.add_file("f".into(), vec![1, 2], Format::Png, Some("c".into()));
        assert_eq!(store.download("f").unwrap().1, "image/png");
        assert!(store.download("nope").is_none());
        assert_eq!(store.info("c").unwrap().downloads, 1);
    }
}
