//! `evaluator`: the evaluator agent role as a WebAssembly component (world
//! `bioai:plugin/agent-role`): it accepts or rejects the coder's results.
//!
//! The logic is `bioai_roles::evaluator` (in `sdk/roles`, unit-tested natively);
//! this crate only exports it. Its policy is `policies/evaluator.toml`.

#[cfg(target_arch = "wasm32")]
mod component {
    use bioai_sdk::agent::{Guest, RunState, StepResult};

    struct Evaluator;

    impl Guest for Evaluator {
        fn step(state: RunState) -> StepResult {
            bioai_roles::run(bioai_roles::Role::Evaluator, state)
        }
    }

    bioai_sdk::export_role!(Evaluator);
}
