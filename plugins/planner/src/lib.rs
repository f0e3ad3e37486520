//! `planner`: the planner agent role as a WebAssembly component (world
//! `bioai:plugin/agent-role`): it picks a built-in task template or asks the LLM for a plan of tool steps.
//!
//! The logic is `bioai_roles::planner` (in `sdk/roles`, unit-tested natively);
//! this crate only exports it. Its policy is `policies/planner.toml`.

#[cfg(target_arch = "wasm32")]
mod component {
    use bioai_sdk::agent::{Guest, RunState, StepResult};

    struct Planner;

    impl Guest for Planner {
        fn step(state: RunState) -> StepResult {
            bioai_roles::run(bioai_roles::Role::Planner, state)
        }
    }

    bioai_sdk::export_role!(Planner);
}
