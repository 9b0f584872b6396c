//! The values of `authotron_require`: compiled as NGINX complex values when the directive is
//! read, evaluated per request once the identity is known (they may read
//! `$authotron_attribute_*`). What a value means, and what an unmet requirement answers, is the
//! core's (`crate::auth::requirement`); this only asks NGINX for the text.

use std::mem;
use std::ptr::NonNull;

use ngx::ffi::{
    ngx_conf_t, ngx_http_compile_complex_value, ngx_http_compile_complex_value_t,
    ngx_http_complex_value, ngx_http_complex_value_t, ngx_http_request_t, ngx_pcalloc, ngx_str_t,
    NGX_OK,
};

use crate::auth::requirement::{is_satisfied, RequirementCheck, RequirementError};

/// A compiled value, in the cycle's pool: it lives as long as the configuration that holds
/// it, and locations that inherit the directive share it, as NGINX's own modules do.
#[derive(Clone, Copy)]
pub struct ComplexValue(NonNull<ngx_http_complex_value_t>);

impl ComplexValue {
    /// `None` when NGINX refused the value (it logged why) or had no memory.
    pub fn compile(cf: &mut ngx_conf_t, value: &ngx_str_t) -> Option<Self> {
        let size = mem::size_of::<ngx_http_complex_value_t>();
        // SAFETY: the cycle's live pool; the result is checked for null.
        let cv = NonNull::new(unsafe { ngx_pcalloc(cf.pool, size) }.cast())?;
        let mut value = *value;
        // SAFETY: all-zero is the "no flags" state NGINX's own callers start from (they
        // ngx_memzero it).
        let mut ccv: ngx_http_compile_complex_value_t = unsafe { mem::zeroed() };
        ccv.cf = cf;
        ccv.value = &mut value;
        ccv.complex_value = cv.as_ptr();
        // SAFETY: a filled-in request for the configuration being parsed; NGINX copies the
        // value's ngx_str_t, whose bytes live in the cycle's pool.
        let rc = unsafe { ngx_http_compile_complex_value(&mut ccv) };
        (rc == NGX_OK as isize).then_some(ComplexValue(cv))
    }

    /// The value's text for `r`, in its pool; `None` when NGINX had no memory for it.
    fn evaluate(self, r: &mut ngx_http_request_t) -> Option<ngx_str_t> {
        let mut text = ngx_str_t {
            len: 0,
            data: std::ptr::null_mut(),
        };
        // SAFETY: a value compiled for this configuration, evaluated for a live request on the
        // NGINX thread.
        let rc = unsafe { ngx_http_complex_value(r, self.0.as_ptr(), &mut text) };
        (rc == NGX_OK as isize).then_some(text)
    }
}

/// One `authotron_require` directive as written.
#[derive(Clone)]
pub struct RequireDirective {
    pub values: Vec<ComplexValue>,
    pub error: RequirementError,
    /// Its entry among the directives `nginx -t` checks (`MainConf::sites`).
    pub site: usize,
}

/// Evaluates the directives in order and reports the first with a value that is not
/// satisfied. The identity must already be visible to the `$authotron_*` variables.
pub fn check(r: &mut ngx_http_request_t, directives: &[RequireDirective]) -> RequirementCheck {
    for (index, directive) in directives.iter().enumerate() {
        for value in &directive.values {
            let Some(text) = value.evaluate(r) else {
                return RequirementCheck::Failed;
            };
            if !is_satisfied(text.as_bytes()) {
                return RequirementCheck::Unmet(index);
            }
        }
    }
    RequirementCheck::Met
}
