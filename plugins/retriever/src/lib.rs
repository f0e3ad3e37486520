//! `retriever`: the retriever agent role as a WebAssembly component (world
//! `bioai:plugin/agent-role`): it searches the know-how library and project documents for background.
//!
//! The logic is `bioai_roles::retriever` (in `sdk/roles`, unit-tested natively);
//! this crate only exports it. Its policy is `policies/retriever.toml`.

#[cfg(target_arch = "wasm32")]
mod component {
    use bioai_sdk::agent::{Guest, RunState, StepResult};

    struct Retriever;

    impl Guest for Retriever {
        fn step(state: RunState) -> StepResult {
            bioai_roles::run(bioai_roles::Role::Retriever, state)
        }
    }

    bioai_sdk::export_role!(Retriever);
}
