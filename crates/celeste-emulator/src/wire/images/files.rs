//! `GET /files/{id}/{name}`: the images the emulator stored, standing in for the providers'
//! delivery URLs (BFL `result.sample`, Topaz `download_url`, BytePlus and xAI `url`). The bytes
//! are sent with their image `Content-Type`; an unknown id is a 404.

use super::{Answer, AnswerBody, Call, Endpoint, ImageApi};
use crate::wire::ErrorInfo;

/// The path prefix of stored files.
pub(crate) const PREFIX: &str = "/files/";

/// The URL of a stored file.
pub(crate) fn url(base_url: &str, id: &str, name: &str) -> String {
    format!("{base_url}{PREFIX}{id}/{name}")
}

pub(crate) fn answer(call: &Call<'_>) -> Answer {
    let Endpoint::File(id) = call.endpoint else {
        return Answer::error(ImageApi::Files, &ErrorInfo::new(404, "Not a file URL."));
    };
    match call.store.download(id) {
        Some((bytes, mime)) => {
            Answer { status: 200, content_type: mime, headers: Vec::new(), body: AnswerBody::Unary(bytes.to_vec()) }
        }
        None => Answer::error(ImageApi::Files, &ErrorInfo::new(404, format!("The file {id} does not exist."))),
    }
}
