//! What segmentation calls ask for and give back: point and box prompts, and masks as the provider
//! encoded them (run-length) with their decoded pixels, score and box. Nothing here knows about
//! builders, clients or wire formats.
//!
//! Two run-length encodings are read:
//!
//! - **Runs** (fal's SAM-3 `image-rle`): `start length` pairs over the pixels in row-major order,
//!   starts 1-based (the first pixel is 1), as text (`"5 3 12 2"`) or as a number list. The mask's
//!   size is not in the encoding: it is the input image's.
//! - **COCO**: `{"size": [height, width], "counts": ...}` with alternating background / foreground
//!   counts over the pixels in column-major order, the counts as a number list or as COCO's
//!   compressed string.
//!
//! Decoding checks the encoding against the mask's size: a run past the last pixel, runs out of
//! order, or counts that do not add up to `height × width` are an [`Error::Decode`], never a panic.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};

/// A point that tells the model what to segment (pixels of the input image).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PointPrompt {
    /// Column, from the left.
    pub x: u32,
    /// Row, from the top.
    pub y: u32,
    /// `1`: the point is on the object; `0`: it is background (the API's labels).
    pub label: u8,
    /// Points with the same id describe the same object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<u32>,
}

impl PointPrompt {
    /// A point on the object.
    pub fn foreground(x: u32, y: u32) -> Self {
        PointPrompt { x, y, label: 1, object_id: None }
    }

    /// A point that is not on the object.
    pub fn background(x: u32, y: u32) -> Self {
        PointPrompt { x, y, label: 0, object_id: None }
    }

    /// Group this point with the other prompts of the same object.
    pub fn object(mut self, id: u32) -> Self {
        self.object_id = Some(id);
        self
    }
}

/// A box around what to segment, in pixels of the input image (`x_min, y_min` inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BoxPrompt {
    /// Left edge.
    pub x_min: u32,
    /// Top edge.
    pub y_min: u32,
    /// Right edge.
    pub x_max: u32,
    /// Bottom edge.
    pub y_max: u32,
    /// Boxes with the same id describe the same object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<u32>,
}

impl BoxPrompt {
    /// The box from `(x_min, y_min)` to `(x_max, y_max)`.
    pub fn new(x_min: u32, y_min: u32, x_max: u32, y_max: u32) -> Self {
        BoxPrompt { x_min, y_min, x_max, y_max, object_id: None }
    }

    /// Group this box with the other prompts of the same object.
    pub fn object(mut self, id: u32) -> Self {
        self.object_id = Some(id);
        self
    }
}

/// A run-length encoded mask, as the provider sent it (see the module docs for the two forms).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rle {
    /// `(start, length)` runs of mask pixels in row-major order, starts 1-based; the size is the
    /// input image's.
    Runs(Vec<(u64, u64)>),
    /// COCO: alternating background / foreground counts in column-major order, with the size.
    Coco {
        /// Rows.
        height: u32,
        /// Columns.
        width: u32,
        /// Background count first, then foreground, background, ...
        counts: Vec<u64>,
    },
}

impl Rle {
    /// Runs from `"start length start length ..."` text.
    pub fn parse_runs(text: &str) -> Result<Rle> {
        let bad = |why: String| Error::decode("a run-length mask", why, text.as_bytes());
        let numbers = text
            .split_ascii_whitespace()
            .map(|t| t.parse::<u64>().map_err(|_| bad(format!("{t:?} is not a run start or length"))))
            .collect::<Result<Vec<u64>>>()?;
        Rle::from_numbers(&numbers).map_err(bad)
    }

    /// Runs from a number list `[start, length, start, length, ...]`.
    pub(crate) fn from_numbers(numbers: &[u64]) -> std::result::Result<Rle, String> {
        if !numbers.len().is_multiple_of(2) {
            return Err(format!("{} numbers: runs are start and length pairs", numbers.len()));
        }
        Ok(Rle::Runs(numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect()))
    }

    /// COCO's compressed counts string (pycocotools' `rleFrString`: six bits a character, with a
    /// continuation bit, a sign bit, and counts after the second stored as differences).
    pub fn parse_coco(height: u32, width: u32, counts: &str) -> Result<Rle> {
        let bad = |why: &str| Error::decode("a COCO run-length mask", why, counts.as_bytes());
        let bytes = counts.as_bytes();
        let mut out: Vec<u64> = Vec::new();
        let mut p = 0;
        while p < bytes.len() {
            let (mut x, mut k, mut more) = (0i64, 0u32, true);
            while more {
                let c = i64::from(*bytes.get(p).ok_or_else(|| bad("the counts end in the middle of a number"))?) - 48;
                if !(0..64).contains(&c) {
                    return Err(bad("a character outside COCO's counts alphabet"));
                }
                if k > 11 {
                    return Err(bad("a count too large"));
                }
                x |= (c & 0x1f) << (5 * k);
                more = c & 0x20 != 0;
                p += 1;
                k += 1;
                if !more && c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
            }
            if out.len() > 2 {
                x = x.checked_add(out[out.len() - 2] as i64).ok_or_else(|| bad("a count too large"))?;
            }
            let x = u64::try_from(x).map_err(|_| bad("a negative count"))?;
            out.push(x);
        }
        Ok(Rle::Coco { height, width, counts: out })
    }

    /// The size the encoding carries (COCO), if any.
    pub fn size(&self) -> Option<(u32, u32)> {
        match self {
            Rle::Coco { height, width, .. } => Some((*width, *height)),
            Rle::Runs(_) => None,
        }
    }

    /// Decode the pixels of a `width × height` mask. A COCO encoding must carry that size.
    pub fn decode(&self, width: u32, height: u32) -> Result<Mask> {
        let total = u64::from(width) * u64::from(height);
        let bad = |why: String| Error::decode("a run-length mask", why, &[]);
        let len = usize::try_from(total).map_err(|_| bad(format!("a {width}×{height} mask is too large")))?;
        let mut bits = vec![false; len];
        match self {
            Rle::Runs(runs) => {
                let mut end = 0u64;
                for (i, &(start, length)) in runs.iter().enumerate() {
                    if start == 0 {
                        return Err(bad(format!("run {i} starts at pixel 0; starts are 1-based")));
                    }
                    let from = start - 1;
                    if from < end {
                        return Err(bad(format!(
                            "run {i} starts at pixel {start}, inside or before the run before it"
                        )));
                    }
                    let to = from.checked_add(length).filter(|t| *t <= total).ok_or_else(|| {
                        bad(format!(
                            "run {i} ({start} {length}) ends past the last pixel of the {width}×{height} mask ({total})"
                        ))
                    })?;
                    // In bounds: `to <= total == bits.len()`.
                    bits[from as usize..to as usize].fill(true);
                    end = to;
                }
            }
            Rle::Coco { height: h, width: w, counts } => {
                if (*w, *h) != (width, height) {
                    return Err(bad(format!("the mask is {w}×{h}, not {width}×{height}")));
                }
                let sum = counts.iter().try_fold(0u64, |a, c| a.checked_add(*c));
                if sum != Some(total) {
                    let sum = sum.map_or_else(|| "more than 2^64".to_string(), |s| s.to_string());
                    return Err(bad(format!("the counts add up to {sum} pixels; a {width}×{height} mask has {total}")));
                }
                // Column-major: pixel k is at column k / height, row k % height.
                let mut k = 0u64;
                for (i, &c) in counts.iter().enumerate() {
                    if i % 2 == 1 {
                        for j in k..k + c {
                            let (col, row) = (j / u64::from(height), j % u64::from(height));
                            bits[(row * u64::from(width) + col) as usize] = true;
                        }
                    }
                    k += c;
                }
            }
        }
        Ok(Mask { width, height, bits })
    }
}

impl fmt::Display for Rle {
    /// Runs as `start length ...` text; COCO as its uncompressed counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut put = |f: &mut fmt::Formatter<'_>, n: u64| {
            let sep = if first { "" } else { " " };
            first = false;
            write!(f, "{sep}{n}")
        };
        match self {
            Rle::Runs(runs) => runs.iter().try_for_each(|&(s, l)| put(f, s).and_then(|()| put(f, l))),
            Rle::Coco { counts, .. } => counts.iter().try_for_each(|&c| put(f, c)),
        }
    }
}

impl Serialize for Rle {
    /// Runs as their text; COCO as `{size: [height, width], counts: [...]}` (uncompressed).
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Rle::Runs(_) => s.collect_str(self),
            Rle::Coco { height, width, counts } => {
                let mut st = s.serialize_struct("Rle", 2)?;
                st.serialize_field("size", &[height, width])?;
                st.serialize_field("counts", counts)?;
                st.end()
            }
        }
    }
}

/// A decoded binary mask: `width × height` pixels, row-major.
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    bits: Vec<bool>,
}

impl Mask {
    /// Columns.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether the pixel at column `x`, row `y` is in the mask (`false` outside the image).
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.bits[(u64::from(y) * u64::from(self.width) + u64::from(x)) as usize]
    }

    /// The pixels, row-major: `true` where the mask is.
    pub fn pixels(&self) -> &[bool] {
        &self.bits
    }

    /// How many pixels are in the mask.
    pub fn area(&self) -> u64 {
        self.bits.iter().filter(|b| **b).count() as u64
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mask({}×{}, area {})", self.width, self.height, self.area())
    }
}

impl Serialize for Mask {
    /// The size and area (the pixels are in the RLE beside it).
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Mask", 3)?;
        st.serialize_field("width", &self.width)?;
        st.serialize_field("height", &self.height)?;
        st.serialize_field("area", &self.area())?;
        st.end()
    }
}

/// One mask a segmentation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SegmentationMask {
    /// Its position among the provider's masks.
    pub index: u32,
    /// The provider's confidence, when it reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Where it is, normalised to the image: `[center x, center y, width, height]`, when reported.
    #[serde(rename = "box", skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
    /// The encoding as sent.
    pub rle: Rle,
    /// The decoded pixels, when the size is known (the input image's bytes, or a COCO size);
    /// otherwise decode [`rle`](Self::rle) with the image's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<Mask>,
}

impl SegmentationMask {
    /// A mask from its encoding.
    pub fn new(index: u32, rle: Rle) -> Self {
        SegmentationMask { index, score: None, bbox: None, rle, mask: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mask drawn as text: `#` in, `.` out, one line a row.
    fn drawn(mask: &Mask) -> String {
        (0..mask.height())
            .map(|y| (0..mask.width()).map(|x| if mask.get(x, y) { '#' } else { '.' }).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn runs_are_row_major_and_one_based() {
        // 4×3: pixels 1..=12. "2 2" is pixels 2-3 of row 0; "6 3" pixels 6-8 (row 1 cols 1-3);
        // "12 1" the last pixel.
        let m = Rle::parse_runs("2 2 6 3 12 1").unwrap().decode(4, 3).unwrap();
        assert_eq!(drawn(&m), ".##.\n.###\n...#");
        assert_eq!(m.area(), 6);
        assert!(m.get(3, 2) && !m.get(0, 0) && !m.get(9, 9));
        // The same runs as numbers.
        assert_eq!(Rle::from_numbers(&[2, 2, 6, 3, 12, 1]).unwrap().decode(4, 3).unwrap(), m);
        // Empty: no pixel.
        assert_eq!(Rle::parse_runs("").unwrap().decode(2, 2).unwrap().area(), 0);
        // A whole 2×2 mask.
        assert_eq!(drawn(&Rle::parse_runs(" 1  4\n").unwrap().decode(2, 2).unwrap()), "##\n##");
    }

    #[test]
    fn coco_counts_are_column_major_from_the_background() {
        // 3 rows × 2 columns, column-major: col 0 = rows 0..3, col 1 = rows 0..3.
        // counts [1, 2, 1, 2]: bg (0,0); fg (0,1),(0,2); bg (1,0); fg (1,1),(1,2).
        let rle = Rle::Coco { height: 3, width: 2, counts: vec![1, 2, 1, 2] };
        let m = rle.decode(2, 3).unwrap();
        assert_eq!(drawn(&m), "..\n##\n##");
        assert_eq!(rle.size(), Some((2, 3)));
        // Compressed: pycocotools stores counts from the fourth on as differences from the count
        // two before: [1, 2, 1, 2] → '1', '2', '1', 2 - 2 = 0 → '0'.
        assert_eq!(Rle::parse_coco(3, 2, "1210").unwrap(), rle);
        // A large count takes two characters (continuation bit 0x20): 40 = 8 + 1·32 → 'X' then '1'.
        assert_eq!(Rle::parse_coco(8, 5, "X1").unwrap(), Rle::Coco { height: 8, width: 5, counts: vec![40] });
        // A negative difference uses the sign bit: [2, 5, 3, 1] stores 1 - 5 = -4 → 0x1c → 'L'.
        assert_eq!(
            Rle::parse_coco(11, 1, "253L").unwrap(),
            Rle::Coco { height: 11, width: 1, counts: vec![2, 5, 3, 1] }
        );
    }

    #[test]
    fn encodings_that_do_not_fit_the_size_are_errors() {
        let err = |r: Result<Mask>| match r {
            Err(Error::Decode { message, .. }) => message,
            other => panic!("expected a decode error, got {other:?}"),
        };
        // Past the last pixel of a 4×3 mask (12 pixels).
        let m = err(Rle::parse_runs("11 3").unwrap().decode(4, 3));
        assert!(m.contains("past the last pixel") && m.contains("4×3"), "{m}");
        // Out of order, overlapping, 0-based.
        assert!(err(Rle::parse_runs("5 2 1 1").unwrap().decode(4, 3)).contains("before"));
        assert!(err(Rle::parse_runs("1 3 2 1").unwrap().decode(4, 3)).contains("inside"));
        assert!(err(Rle::parse_runs("0 1").unwrap().decode(4, 3)).contains("1-based"));
        // Huge numbers do not overflow.
        assert!(err(Rle::Runs(vec![(u64::MAX, u64::MAX)]).decode(4, 3)).contains("past the last pixel"));
        // Not pairs, not numbers.
        assert!(matches!(Rle::parse_runs("1 2 3"), Err(Error::Decode { .. })));
        assert!(matches!(Rle::parse_runs("1 x"), Err(Error::Decode { .. })));
        // COCO counts that do not add up, or another size.
        let coco = Rle::Coco { height: 3, width: 2, counts: vec![1, 2, 1] };
        assert!(err(coco.decode(2, 3)).contains("add up to 4 pixels; a 2×3 mask has 6"));
        let coco = Rle::Coco { height: 3, width: 2, counts: vec![u64::MAX, 7] };
        assert!(err(coco.decode(2, 3)).contains("more than"));
        assert!(err(Rle::Coco { height: 3, width: 2, counts: vec![6] }.decode(3, 2)).contains("not 3×2"));
        // Bad compressed strings.
        assert!(Rle::parse_coco(1, 1, "X").is_err(), "ends inside a number");
        assert!(Rle::parse_coco(1, 1, "\u{7f}").is_err(), "outside the alphabet");
        assert!(Rle::parse_coco(1, 1, "N").is_err(), "negative");
        assert!(Rle::parse_coco(1, 1, "XXXXXXXXXXXXXXXX1").is_err(), "too long");
    }

    #[test]
    fn masks_serialize_their_encoding_and_size_not_their_pixels() {
        let rle = Rle::parse_runs("2 2").unwrap();
        let mut m = SegmentationMask::new(0, rle.clone());
        m.score = Some(0.5);
        m.mask = Some(rle.decode(2, 2).unwrap());
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"index": 0, "score": 0.5, "rle": "2 2", "mask": {"width": 2, "height": 2, "area": 2}})
        );
        let coco = Rle::Coco { height: 1, width: 2, counts: vec![1, 1] };
        assert_eq!(serde_json::to_value(&coco).unwrap(), serde_json::json!({"size": [1, 2], "counts": [1, 1]}));
        assert_eq!(format!("{:?}", m.mask.unwrap()), "Mask(2×2, area 2)");
    }
}
