//! What a run costs while it runs: LLM tokens and component fuel, in fen.
//!
//! Token rates come from the active pricing plan named `default` (fen per
//! million input and output tokens; `pricing_plans` in the store); fuel is
//! priced per 10^9 units (`BIOAI_FEN_PER_GIGAFUEL`, default 1 fen). The
//! run's budget (`budget_fen`) is checked against this running cost before
//! every step and after every LLM call. Charging is the billing module's
//! business; this is the meter it will read.

use bioai_store::{PricingPlan, Store};

/// Prices used to turn meters into fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Fen per million prompt tokens.
    pub input_fen_per_mtok: i64,
    /// Fen per million generated tokens.
    pub output_fen_per_mtok: i64,
    /// Fen per 10^9 units of fuel.
    pub fen_per_gigafuel: i64,
    /// The plan the token rates come from, if any.
    pub plan: Option<&'static str>,
}

impl Default for Rates {
    /// No plan: tokens free, 1 fen per 10^9 fuel.
    fn default() -> Self {
        Rates {
            input_fen_per_mtok: 0,
            output_fen_per_mtok: 0,
            fen_per_gigafuel: 1,
            plan: None,
        }
    }
}

/// The name of the pricing plan whose token rates runs use.
pub const DEFAULT_PLAN: &str = "default";

impl Rates {
    /// Rates from the active `default` plan (if any) and the environment.
    pub async fn load(store: &Store, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut rates = Rates::default();
        if let Some(v) = lookup("BIOAI_FEN_PER_GIGAFUEL").and_then(|v| v.parse().ok()) {
            rates.fen_per_gigafuel = v;
        }
        match store.pricing_plans().await {
            Ok(plans) => {
                if let Some(plan) = plans.iter().find(|p| p.name == DEFAULT_PLAN) {
                    rates.apply(plan);
                }
            }
            Err(e) => tracing::warn!("pricing plans unavailable, tokens priced at 0: {e}"),
        }
        rates
    }

    fn apply(&mut self, plan: &PricingPlan) {
        self.input_fen_per_mtok = plan.input_fen_per_mtok;
        self.output_fen_per_mtok = plan.output_fen_per_mtok;
        self.plan = Some(DEFAULT_PLAN);
    }

    /// The price of tokens, rounded up to whole fen.
    pub fn tokens(&self, input: u64, output: u64) -> i64 {
        let micro = (input as i128) * (self.input_fen_per_mtok as i128)
            + (output as i128) * (self.output_fen_per_mtok as i128);
        ceil_div(micro, 1_000_000)
    }

    /// The price of fuel, rounded up to whole fen.
    pub fn fuel(&self, fuel: u64) -> i64 {
        ceil_div(
            (fuel as i128) * (self.fen_per_gigafuel as i128),
            1_000_000_000,
        )
    }
}

fn ceil_div(n: i128, d: i128) -> i64 {
    if n <= 0 {
        return 0;
    }
    i64::try_from((n + d - 1) / d).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_round_up_to_whole_fen() {
        let r = Rates {
            input_fen_per_mtok: 100,
            output_fen_per_mtok: 400,
            fen_per_gigafuel: 2,
            plan: None,
        };
        assert_eq!(r.tokens(0, 0), 0);
        assert_eq!(r.tokens(1, 0), 1);
        assert_eq!(r.tokens(1_000_000, 1_000_000), 500);
        assert_eq!(r.tokens(10_000, 2_500), 2);
        assert_eq!(r.fuel(0), 0);
        assert_eq!(r.fuel(1), 1);
        assert_eq!(r.fuel(3_000_000_000), 6);
    }
}
