//! The image call's checks, before anything is sent (the calls themselves are tested over sockets
//! in `tests/images.rs`).

use super::*;
use crate::error::Error;
use crate::{Client, Provider};

fn client() -> Client {
    let creds = crate::Credentials::empty().with_key(Provider::OpenAi, "k");
    // A base URL nothing listens on: any request that got out would fail as a transport error.
    Client::builder().credentials(creds).base_url(Provider::OpenAi, "http://127.0.0.1:9").build().unwrap()
}

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

#[cfg_attr(not(feature = "openai"), ignore = "calls OpenAI models")]
#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let c = client();
    let err = c.images().generate("a cat", "gpt-image-1").num_images(11).await.unwrap_err();
    let Error::Validation(v) = err else { panic!("{err:?}") };
    assert_eq!(v.parameter, "num_images");
    let err = c.images().generate("a cat", "gpt-image-1").aspect_ratio("7x3").await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    let err = c.images().generate("  ", "gpt-image-1").await.unwrap_err();
    assert!(err.to_string().contains("prompt is empty"), "{err}");

    let missing = Artifact::from_path("/no/such/file.png");
    let err = c.images().edit(missing, "night", "gpt-image-1").await.unwrap_err();
    assert!(err.to_string().contains("no readable file"), "{err}");
    let pdf = Artifact::from_bytes(&b"%PDF-1.7 ..."[..]);
    let err = c.images().edit(pdf, "night", "gpt-image-1").await.unwrap_err();
    assert!(err.to_string().contains("not an image"), "{err}");
    let err =
        c.images().edit(Artifact::from_bytes(PNG), "night", "gpt-image-1").reference_image(Artifact::default()).await;
    assert!(err.unwrap_err().to_string().contains("is empty"));

    // What OpenAI documents it takes: PNG, JPEG or WebP, under 50 MB.
    let gif = Artifact::from_bytes(&b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"[..]);
    let err = c.images().edit(gif, "night", "gpt-image-1").await.unwrap_err();
    assert!(err.to_string().contains("takes image/png, image/jpeg, image/webp"), "{err}");
    let mut huge = PNG.to_vec();
    huge.resize(50 * 1000 * 1000 + 1, 0);
    let err = c.images().edit(Artifact::from_bytes(huge), "night", "gpt-image-1").await.unwrap_err();
    assert!(err.to_string().contains("up to 50000000 bytes"), "{err}");

    // A model without the operation, and streaming where the model does not stream.
    let err = c.images().upscale(Artifact::from_bytes(PNG), "gpt-image-1").await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
}

#[cfg_attr(not(feature = "openai"), ignore = "calls OpenAI models")]
#[tokio::test]
async fn a_valid_call_reaches_the_transport() {
    // Everything checks out, so the request is sent: to a port nothing listens on.
    let err = client().images().generate("a cat", "gpt-image-1").num_images(2).await.unwrap_err();
    assert!(matches!(err, Error::Transport { connect: true, .. }), "{err:?}");
}

/// Every image model of the catalog, for every operation it declares, has an API and a path in this
/// build (with every provider compiled in).
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn every_catalog_image_operation_has_an_api() {
    let mut checked = 0;
    for m in crate::catalog::list_models(None, Some(crate::types::enums::Modality::Images), None) {
        let api = crate::providers::image_api(m.provider).unwrap_or_else(|| panic!("no image API for {}", m.id));
        for op in m.operations.get(&crate::types::enums::Modality::Images).into_iter().flatten() {
            assert!(api.path(*op, &m.id).is_some(), "{} {op} on {api:?}", m.id);
            checked += 1;
        }
    }
    assert!(checked >= 41, "{checked} image operations");
}
