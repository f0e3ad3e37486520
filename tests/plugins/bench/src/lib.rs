//! Test-only plugin for benchmarks and for the progress/log plumbing.
//!
//! [`sum_squares`] is plain Rust so that a native benchmark runs the very
//! same code as the component's `sum-squares` export.

/// The wrapping sum of `i * i` for `i` in `0..n`.
///
/// Every step goes through [`core::hint::black_box`], so the compiler cannot
/// replace the loop with the closed form `(n-1)n(2n-1)/6`: the work is linear
/// in `n`, natively and in WebAssembly alike.
pub fn sum_squares(n: u64) -> u64 {
    let mut sum: u64 = 0;
    let mut i: u64 = 0;
    while i < n {
        let i_bb = core::hint::black_box(i);
        sum = sum.wrapping_add(i_bb.wrapping_mul(i_bb));
        i += 1;
    }
    sum
}

#[cfg(target_arch = "wasm32")]
mod component {
    bioai_sdk::generate!("test:bench/bench");

    use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo};
    use exports::test::bench::work;
    use std::time::Duration;

    struct Bench;

    impl metadata::Guest for Bench {
        fn describe() -> PluginInfo {
            PluginInfo {
                namespace: Some("bench".into()),
                title: "Bench".into(),
                description: "Test-only units of work for benchmarks.".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                annotations: Annotations {
                    read_only: true,
                    destructive: false,
                    idempotent: true,
                    open_world: false,
                },
                tools: Vec::new(),
                pricing: None,
            }
        }
    }

    impl work::Guest for Bench {
        fn noop() -> u32 {
            1
        }

        fn sum_squares(n: u64) -> u64 {
            super::sum_squares(n)
        }

        fn steps(n: u32, delay_ms: u32) -> u32 {
            for i in 1..=n {
                if i > 1 && delay_ms > 0 {
                    std::thread::sleep(Duration::from_millis(u64::from(delay_ms)));
                }
                bioai_sdk::progress::report_steps(
                    u64::from(i),
                    u64::from(n),
                    &format!("step {i} of {n}"),
                );
                bioai_sdk::log!(info, "step"; step = i, of = n);
            }
            n
        }
    }

    export!(Bench);
}

#[cfg(test)]
mod tests {
    use super::sum_squares;

    #[test]
    fn matches_the_closed_form() {
        // Sum of squares 0..n = (n-1)n(2n-1)/6.
        for n in [0u64, 1, 2, 3, 10, 1000] {
            let closed = if n == 0 {
                0
            } else {
                (n - 1) * n * (2 * n - 1) / 6
            };
            assert_eq!(sum_squares(n), closed, "n = {n}");
        }
    }
}
