//! A `multipart/form-data` reader for whole request bodies (RFC 7578).
//!
//! The emulator has the complete body in memory before it answers, so a streaming parser such as
//! `multer` (async, with its own dependencies) would buy nothing: splitting on the boundary is
//! enough, and this reader also reports the malformed bodies the emulator must reject with a 400.

use bytes::Bytes;

/// One part of a form.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename`, for file parts.
    pub filename: Option<String>,
    pub data: Bytes,
}

/// A parsed form, parts in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form {
    pub parts: Vec<Part>,
}

impl Form {
    /// The text of the first non-file part with this name.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .and_then(|p| std::str::from_utf8(&p.data).ok())
    }

    /// Every part with one of these names (file or not), in order.
    pub fn all<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = &'a Part> + 'a {
        self.parts.iter().filter(move |p| names.contains(&p.name.as_str()))
    }
}

/// The boundary of a `multipart/form-data` content type, or `None` for any other type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Parses a whole body. Errors name what is wrong, for the 400 message.
pub(crate) fn parse(body: &Bytes, boundary: &str) -> Result<Form, String> {
    if boundary.is_empty() {
        return Err("the multipart boundary is empty".into());
    }
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0).ok_or("the body does not contain the multipart boundary")?;
    let mut form = Form::default();
    loop {
        pos += delim.len();
        if body[pos..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err("a multipart boundary is not followed by CRLF".into());
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("a multipart part has no header end")?;
        let head = std::str::from_utf8(&body[pos..head_end]).map_err(|_| "a multipart header is not UTF-8")?;
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(&delim);
        let data_start = head_end + 4;
        let data_end = find(body, &close, data_start).ok_or("the multipart body is not closed by its boundary")?;
        form.parts.push(part(head, body.slice(data_start..data_end))?);
        pos = data_end + 2;
    }
}

fn part(head: &str, data: Bytes) -> Result<Part, String> {
    let mut name = None;
    let mut filename = None;
    for line in head.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("malformed multipart header line {line:?}"));
        };
        if key.trim().eq_ignore_ascii_case("content-disposition") {
            for param in value.split(';').skip(1) {
                if let Some((k, v)) = param.split_once('=') {
                    let v = v.trim().trim_matches('"').to_string();
                    match k.trim() {
                        "name" => name = Some(v),
                        "filename" => filename = Some(v),
                        _ => {}
                    }
                }
            }
        }
    }
    let name = name.ok_or("a multipart part has no Content-Disposition name")?;
    Ok(Part { name, filename, data })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_files() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-image-1\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\n\
              Content-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n",
        );
        let form = parse(&body, "XyZ").unwrap();
        assert_eq!(form.text("model"), Some("gpt-image-1"));
        let files: Vec<_> = form.all(&["image", "image[]"]).collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].filename.as_deref(), Some("a.png"));
        assert_eq!(&files[0].data[..], b"\x89PNG");
    }

    #[test]
    fn boundaries_and_errors() {
        assert_eq!(boundary("multipart/form-data; boundary=\"ab c\"").as_deref(), Some("ab c"));
        assert_eq!(boundary("application/json"), None);
        assert!(parse(&Bytes::from_static(b"nothing here"), "XyZ").is_err());
        assert!(parse(&Bytes::from_static(b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx"), "XyZ").is_err());
    }
}
