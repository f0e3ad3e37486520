//! `reporter`: the reporter agent role as a WebAssembly component (world
//! `bioai:plugin/agent-role`): it writes the run's Markdown report and TSV tables.
//!
//! The logic is `bioai_roles::reporter` (in `sdk/roles`, unit-tested natively);
//! this crate only exports it. Its policy is `policies/reporter.toml`.

#[cfg(target_arch = "wasm32")]
mod component {
    use bioai_sdk::agent::{Guest, RunState, StepResult};

    struct Reporter;

    impl Guest for Reporter {
        fn step(state: RunState) -> StepResult {
            bioai_roles::run(bioai_roles::Role::Reporter, state)
        }
    }

    bioai_sdk::export_role!(Reporter);
}
