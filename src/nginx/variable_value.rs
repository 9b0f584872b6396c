//! Fills in the value a variable getter returns.
//!
//! `ngx_variable_value_t` keeps its length and flags in one 32-bit C bitfield. bindgen's
//! setters for it move one bit at a time: setting the four fields cost about 565 instructions
//! per value under callgrind, many times the rest of a getter (docs/benchmarks.md). Here the whole bitfield is
//! written at once, in the layout C compilers give it on little-endian targets (the first
//! field in the lowest bits), which is also how bindgen reads it there.

use ngx::ffi::{
    __BindgenBitfieldUnit, ngx_int_t, ngx_pool_t, ngx_variable_value_t, NGX_ERROR, NGX_OK,
};

use super::pool;

/// Bit positions after the 28-bit `len`, in declaration order.
const LEN_BITS: u32 = 28;
const VALID: u32 = 1 << LEN_BITS;
const NOT_FOUND: u32 = 1 << (LEN_BITS + 2);

/// Longer than the 28-bit `len` can say.
#[derive(Debug)]
pub struct TooLong;

/// A found value: `len` bytes at `data`, valid, cacheable for the rest of the request, and not
/// to be escaped.
pub fn set_found(v: &mut ngx_variable_value_t, data: *mut u8, len: usize) -> Result<(), TooLong> {
    let len = u32::try_from(len)
        .ok()
        .filter(|len| len >> LEN_BITS == 0)
        .ok_or(TooLong)?;
    write_bits(v, len | VALID);
    v.data = data;
    Ok(())
}

/// A found value copied into `pool` (the request's), as a getter returns it.
pub fn set_copy(pool: *mut ngx_pool_t, v: &mut ngx_variable_value_t, value: &[u8]) -> ngx_int_t {
    let Ok(copy) = pool::pool_str(pool, value) else {
        return NGX_ERROR as ngx_int_t;
    };
    match set_found(v, copy.data, copy.len) {
        Ok(()) => NGX_OK as ngx_int_t,
        Err(TooLong) => NGX_ERROR as ngx_int_t,
    }
}

/// No value: NGINX treats it as empty, and `map` as no match.
pub fn set_not_found(v: &mut ngx_variable_value_t) {
    write_bits(v, NOT_FOUND);
}

#[cfg(target_endian = "little")]
fn write_bits(v: &mut ngx_variable_value_t, bits: u32) {
    v._bitfield_1 = __BindgenBitfieldUnit::new(bits.to_le_bytes());
    debug_assert!(matches_setters(v, bits));
}

/// Elsewhere, bindgen's bit order is not the integer's: its own setters, slow but right.
#[cfg(not(target_endian = "little"))]
fn write_bits(v: &mut ngx_variable_value_t, bits: u32) {
    v.set_len(bits & (VALID - 1));
    v.set_valid((bits & VALID != 0).into());
    v.set_no_cacheable(0);
    v.set_not_found((bits & NOT_FOUND != 0).into());
    v.set_escape(0);
}

/// Debug builds check the layout against bindgen's own accessors.
#[cfg(target_endian = "little")]
fn matches_setters(v: &ngx_variable_value_t, bits: u32) -> bool {
    v.len() == bits & (VALID - 1)
        && v.valid() == u32::from(bits & VALID != 0)
        && v.no_cacheable() == 0
        && v.not_found() == u32::from(bits & NOT_FOUND != 0)
        && v.escape() == 0
}
