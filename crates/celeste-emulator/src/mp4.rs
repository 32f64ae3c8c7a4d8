//! Small, structurally valid MP4 files: what the emulator's video APIs deliver.
//!
//! The file is an ISO base media file: `ftyp` (brand `isom`, compatible `isom iso2 avc1 mp41`),
//! then `moov` with a movie header (`mvhd`, the duration in milliseconds), one video track
//! (`trak`: `tkhd` with the size, `mdia` with `mdhd`, a `vide` handler, and a sample table whose
//! `avc1` entry carries an `avcC` configuration), and an empty `mdat`. The track has no samples:
//! players read its size and duration; there are no frames to decode. Every box's size is exact,
//! so a box walker (or `ffprobe`) reads the tree to its end; [`boxes`] is such a walker.

/// One box: its four-character type and body.
fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + body.len());
    v.extend_from_slice(&((8 + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// A full box: version 0, no flags (or `flags`), then the body.
fn full(kind: &[u8; 4], flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + body.len());
    b.extend_from_slice(&flags.to_be_bytes());
    b.extend_from_slice(body);
    bx(kind, &b)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The unity matrix of `mvhd` and `tkhd`.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn matrix() -> Vec<u8> {
    MATRIX.iter().flat_map(|m| m.to_be_bytes()).collect()
}

/// An MP4 of `width` x `height` pixels lasting `seconds`.
pub fn render(width: u16, height: u16, seconds: u32) -> Vec<u8> {
    const TIMESCALE: u32 = 1000;
    let duration = seconds.saturating_mul(TIMESCALE);
    let ftyp = bx(b"ftyp", &cat(&[b"isom", &512u32.to_be_bytes(), b"isom", b"iso2", b"avc1", b"mp41"]));

    let mvhd = full(
        b"mvhd",
        0,
        &cat(&[
            &0u32.to_be_bytes(), // creation time
            &0u32.to_be_bytes(), // modification time
            &TIMESCALE.to_be_bytes(),
            &duration.to_be_bytes(),
            &0x0001_0000u32.to_be_bytes(), // rate 1.0
            &0x0100u16.to_be_bytes(),      // volume 1.0
            &[0; 10],                      // reserved
            &matrix(),
            &[0; 24],            // pre-defined
            &2u32.to_be_bytes(), // next track id
        ]),
    );
    let tkhd = full(
        b"tkhd",
        3, // enabled, in movie
        &cat(&[
            &0u32.to_be_bytes(),
            &0u32.to_be_bytes(),
            &1u32.to_be_bytes(), // track id
            &0u32.to_be_bytes(), // reserved
            &duration.to_be_bytes(),
            &[0; 8],             // reserved
            &0u16.to_be_bytes(), // layer
            &0u16.to_be_bytes(), // alternate group
            &0u16.to_be_bytes(), // volume (0 for video)
            &0u16.to_be_bytes(), // reserved
            &matrix(),
            &(u32::from(width) << 16).to_be_bytes(),
            &(u32::from(height) << 16).to_be_bytes(),
        ]),
    );
    let mdhd = full(
        b"mdhd",
        0,
        &cat(&[
            &0u32.to_be_bytes(),
            &0u32.to_be_bytes(),
            &TIMESCALE.to_be_bytes(),
            &duration.to_be_bytes(),
            &0x55c4u16.to_be_bytes(), // language `und`
            &0u16.to_be_bytes(),
        ]),
    );
    let hdlr = full(b"hdlr", 0, &cat(&[&0u32.to_be_bytes(), b"vide", &[0; 12], b"VideoHandler\0"]));
    let vmhd = full(b"vmhd", 1, &[0; 8]);
    let dref = full(b"dref", 0, &cat(&[&1u32.to_be_bytes(), &full(b"url ", 1, &[])]));
    let dinf = bx(b"dinf", &dref);
    // avcC: version 1, Baseline profile 66, level 3.0, 4-byte NAL lengths, one SPS and one PPS.
    let sps: &[u8] = &[0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8];
    let pps: &[u8] = &[0x68, 0xce, 0x38, 0x80];
    let avcc = bx(
        b"avcC",
        &cat(&[
            &[1, 0x42, 0xc0, 0x1e, 0xff, 0xe1],
            &(sps.len() as u16).to_be_bytes(),
            sps,
            &[1],
            &(pps.len() as u16).to_be_bytes(),
            pps,
        ]),
    );
    let avc1 = bx(
        b"avc1",
        &cat(&[
            &[0; 6],             // reserved
            &1u16.to_be_bytes(), // data reference index
            &[0; 16],            // pre-defined, reserved
            &width.to_be_bytes(),
            &height.to_be_bytes(),
            &0x0048_0000u32.to_be_bytes(), // 72 dpi
            &0x0048_0000u32.to_be_bytes(),
            &0u32.to_be_bytes(),
            &1u16.to_be_bytes(),      // frame count
            &[0; 32],                 // compressor name
            &0x0018u16.to_be_bytes(), // depth
            &(-1i16).to_be_bytes(),
            &avcc,
        ]),
    );
    let stsd = full(b"stsd", 0, &cat(&[&1u32.to_be_bytes(), &avc1]));
    let stts = full(b"stts", 0, &0u32.to_be_bytes());
    let stsc = full(b"stsc", 0, &0u32.to_be_bytes());
    let stsz = full(b"stsz", 0, &cat(&[&0u32.to_be_bytes(), &0u32.to_be_bytes()]));
    let stco = full(b"stco", 0, &0u32.to_be_bytes());
    let stbl = bx(b"stbl", &cat(&[&stsd, &stts, &stsc, &stsz, &stco]));
    let minf = bx(b"minf", &cat(&[&vmhd, &dinf, &stbl]));
    let mdia = bx(b"mdia", &cat(&[&mdhd, &hdlr, &minf]));
    let trak = bx(b"trak", &cat(&[&tkhd, &mdia]));
    let moov = bx(b"moov", &cat(&[&mvhd, &trak]));
    let mdat = bx(b"mdat", &[]);
    cat(&[&ftyp, &moov, &mdat])
}

/// The boxes of an MP4, depth first, as `(path, body)` (`moov/trak/tkhd`), descending into the
/// container boxes; `None` when a size does not fit its parent exactly.
pub fn boxes(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    const CONTAINERS: &[&[u8; 4]] = &[b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl"];
    fn walk(bytes: &[u8], prefix: &str, out: &mut Vec<(String, Vec<u8>)>) -> Option<()> {
        let mut at = 0;
        while at < bytes.len() {
            let size = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
            let kind: [u8; 4] = bytes.get(at + 4..at + 8)?.try_into().ok()?;
            if size < 8 || at + size > bytes.len() {
                return None;
            }
            let body = &bytes[at + 8..at + size];
            let name = String::from_utf8_lossy(&kind).into_owned();
            let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            out.push((path.clone(), body.to_vec()));
            if CONTAINERS.contains(&&kind) {
                walk(body, &path, out)?;
            }
            at += size;
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(bytes, "", &mut out)?;
    Some(out)
}

/// The duration in seconds an MP4's movie header declares.
pub fn duration(bytes: &[u8]) -> Option<f64> {
    let all = boxes(bytes)?;
    let (_, mvhd) = all.iter().find(|(p, _)| p == "moov/mvhd")?;
    let n = |at: usize| mvhd.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let (scale, dur) = (n(12)?, n(16)?);
    (scale > 0).then(|| f64::from(dur) / f64::from(scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_tree_is_exact_and_complete() {
        let mp4 = render(320, 180, 6);
        let all = boxes(&mp4).expect("every size fits");
        let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
        for needed in [
            "ftyp",
            "moov/mvhd",
            "moov/trak/tkhd",
            "moov/trak/mdia/mdhd",
            "moov/trak/mdia/hdlr",
            "moov/trak/mdia/minf/vmhd",
            "moov/trak/mdia/minf/dinf/dref",
            "moov/trak/mdia/minf/stbl/stsd",
            "moov/trak/mdia/minf/stbl/stco",
            "mdat",
        ] {
            assert!(paths.contains(&needed), "{needed} in {paths:?}");
        }
        assert_eq!(duration(&mp4), Some(6.0));
        assert_eq!(&mp4[4..12], b"ftypisom");
        // A cut file is not one.
        assert!(boxes(&mp4[..mp4.len() - 9]).is_none());
    }
}
