//! `coder`: the coder agent role as a WebAssembly component (world
//! `bioai:plugin/agent-role`): it runs the plan's tool steps (and repairs failed ones with the LLM).
//!
//! The logic is `bioai_roles::coder` (in `sdk/roles`, unit-tested natively);
//! this crate only exports it. Its policy is `policies/coder.toml`.

#[cfg(target_arch = "wasm32")]
mod component {
    use bioai_sdk::agent::{Guest, RunState, StepResult};

    struct Coder;

    impl Guest for Coder {
        fn step(state: RunState) -> StepResult {
            bioai_roles::run(bioai_roles::Role::Coder, state)
        }
    }

    bioai_sdk::export_role!(Coder);
}
