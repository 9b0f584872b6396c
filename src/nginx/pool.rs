//! Copies into NGINX pool memory: what NGINX reads after a handler returns (header values,
//! response bodies, variable values) must live as long as the request, in its pool.

use ngx::ffi::{ngx_pnalloc, ngx_pool_t, ngx_str_t};

/// Out of pool memory.
#[derive(Debug)]
pub struct NoMemory;

/// A copy of `bytes` in the pool.
pub fn pool_str(pool: *mut ngx_pool_t, bytes: &[u8]) -> Result<ngx_str_t, NoMemory> {
    pool_concat(pool, &[bytes])
}

/// The parts, joined, in one pool allocation.
pub fn pool_concat(pool: *mut ngx_pool_t, parts: &[&[u8]]) -> Result<ngx_str_t, NoMemory> {
    let len = parts.iter().map(|p| p.len()).sum();
    if len == 0 {
        return Ok(empty_str());
    }
    // SAFETY: `pool` is a live NGINX pool owned by the request being handled.
    let data = unsafe { ngx_pnalloc(pool, len) }.cast::<u8>();
    if data.is_null() {
        return Err(NoMemory);
    }
    // SAFETY: `data` is a fresh allocation of `len` bytes, which the parts fill exactly.
    let buffer = unsafe { std::slice::from_raw_parts_mut(data, len) };
    let mut at = 0;
    for part in parts {
        buffer[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    Ok(ngx_str_t { len, data })
}

/// A valid pointer even for nothing: NGINX copies header values with memcpy.
pub fn empty_str() -> ngx_str_t {
    ngx_str_t {
        len: 0,
        data: c"".as_ptr().cast_mut().cast(),
    }
}
