//! The bundled DejaVu Sans, registered once with plotters so charts never need system fonts.

use super::ChartError;
use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The font family every chart asks for.
pub const FAMILY: &str = "sans-serif";

/// DejaVu Sans 2.37 (Bitstream Vera license, see `assets/fonts/LICENSE-DejaVu.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

/// Whether registering succeeded, decided by the first caller.
static REGISTERED: OnceLock<bool> = OnceLock::new();

/// Registers the bundled font under [`FAMILY`] for every style the charts use; later calls
/// only report the first call's outcome.
pub fn ensure_registered() -> Result<(), ChartError> {
    let ok = *REGISTERED.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| register_font(FAMILY, style, DEJAVU_SANS).is_ok())
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}
