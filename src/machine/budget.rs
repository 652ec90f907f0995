//! Spending limits: what a run, and each of its agents, may spend in tokens and dollars
//! (`policies.budget`). Checked whenever work is about to be handed to an agent — the first
//! hand-off, every pass back and forth, every relaunch — so a run over its budget stops with
//! `needs-human` before it spends more, and `retry` (after the limit was raised) continues
//! exactly where it stopped.

use indexmap::IndexMap;

use super::state::RunStatus;

/// At most so many tokens and so many dollars (`None`: no limit).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Limit {
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

/// The run's limit and each agent's.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Budget {
    pub run: Limit,
    pub agents: IndexMap<String, Limit>,
}

impl Budget {
    /// The limits the repository's policy sets (`budget`).
    pub(crate) fn of_policy(p: &crate::config::policies::Budget) -> Budget {
        let limit = |max_tokens, max_cost_usd| Limit {
            max_tokens,
            max_cost_usd,
        };
        Budget {
            run: limit(p.max_tokens, p.max_cost_usd),
            agents: p
                .agents
                .iter()
                .map(|(a, l)| (a.clone(), limit(l.max_tokens, l.max_cost_usd)))
                .collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.run == Limit::default() && self.agents.values().all(|l| *l == Limit::default())
    }
}

/// Why handing work to `agent` would go over the budget, naming what was spent and the limit;
/// `None` while within it. Reaching a limit counts as spending it.
pub(crate) fn exceeded(budget: &Budget, st: &RunStatus, agent: &str) -> Option<String> {
    let (tokens, cost) = super::usage::totals(st);
    let over = |who: &str, limit: &Limit, tokens: Option<u64>, cost: Option<f64>| {
        if let (Some(max), Some(t)) = (limit.max_tokens, tokens)
            && t >= max
        {
            return Some(format!(
                "{who} spent {} tokens, and policies.budget allows {}",
                super::usage::thousands(t),
                super::usage::thousands(max)
            ));
        }
        if let (Some(max), Some(c)) = (limit.max_cost_usd, cost)
            && c >= max
        {
            return Some(format!(
                "{who} spent ${c:.2}, and policies.budget allows ${max:.2}"
            ));
        }
        None
    };
    over("the run", &budget.run, tokens, cost).or_else(|| {
        let limit = budget.agents.get(agent)?;
        over(
            &format!("agent {agent}"),
            limit,
            st.step_tokens.get(agent).copied(),
            st.swarm.cost_usd.get(agent).copied(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spent(tokens: &[(&str, u64)], cost: &[(&str, f64)]) -> RunStatus {
        let mut st = crate::machine::sample_status(
            "r",
            std::path::Path::new("/w"),
            std::path::Path::new("/c.json"),
        );
        for (a, t) in tokens {
            st.step_tokens.insert(a.to_string(), *t);
        }
        for (a, c) in cost {
            st.swarm.cost_usd.insert(a.to_string(), *c);
        }
        st
    }

    #[test]
    fn the_runs_limit_and_each_agents_are_checked() {
        let st = spent(
            &[("planner", 4_000), ("implementor", 6_000)],
            &[("implementor", 1.5)],
        );
        assert_eq!(exceeded(&Budget::default(), &st, "implementor"), None);
        let run = |t, c| Budget {
            run: Limit {
                max_tokens: t,
                max_cost_usd: c,
            },
            agents: IndexMap::new(),
        };
        assert_eq!(exceeded(&run(Some(10_001), None), &st, "reviewer"), None);
        assert_eq!(
            exceeded(&run(Some(10_000), None), &st, "reviewer").as_deref(),
            Some("the run spent 10,000 tokens, and policies.budget allows 10,000")
        );
        assert_eq!(
            exceeded(&run(None, Some(1.0)), &st, "reviewer").as_deref(),
            Some("the run spent $1.50, and policies.budget allows $1.00")
        );
        let mut per_agent = Budget::default();
        per_agent.agents.insert(
            "implementor".into(),
            Limit {
                max_tokens: Some(5_000),
                max_cost_usd: None,
            },
        );
        assert!(!per_agent.is_empty());
        assert_eq!(
            exceeded(&per_agent, &st, "reviewer"),
            None,
            "only its own agent"
        );
        assert_eq!(
            exceeded(&per_agent, &st, "implementor").as_deref(),
            Some("agent implementor spent 6,000 tokens, and policies.budget allows 5,000")
        );
    }

    #[test]
    fn nothing_reported_is_nothing_spent() {
        let st = spent(&[], &[]);
        let b = Budget {
            run: Limit {
                max_tokens: Some(1),
                max_cost_usd: Some(0.01),
            },
            agents: IndexMap::new(),
        };
        assert_eq!(exceeded(&b, &st, "planner"), None);
    }
}
