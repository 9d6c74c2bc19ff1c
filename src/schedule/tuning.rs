//! The constants of `secant` and `auto` as one value, so that an ablation can move one group
//! of them and nothing else (`--auto-variant`, docs/evaluation.md §6). The default is the
//! frozen rule: every field is the named constant documented where the rule uses it.

use super::auto::LINE_MIN_PROBES;
use super::secant::{
    Decision, BLOW_UP, COOLDOWN, EVIDENCE_T, MAX_WINDOW, OVERSHOOT_MEAN, PLATEAU_MIN_STEPS,
    RHO_CLIP, RHO_MIN_STEPS, STALL_MIN_STEPS, STALL_T,
};

/// Every constant that changes η in `secant` and `auto` (docs/evaluation.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// [`OVERSHOOT_MEAN`].
    pub overshoot_mean: f64,
    /// [`RHO_MIN_STEPS`].
    pub rho_min_steps: usize,
    /// [`EVIDENCE_T`].
    pub evidence_t: f64,
    /// [`MAX_WINDOW`].
    pub max_window: usize,
    /// [`RHO_CLIP`].
    pub rho_clip: f64,
    /// [`STALL_T`].
    pub stall_t: f64,
    /// [`PLATEAU_MIN_STEPS`].
    pub plateau_min_steps: usize,
    /// [`STALL_MIN_STEPS`].
    pub stall_min_steps: usize,
    /// [`BLOW_UP`].
    pub blow_up: f64,
    /// η's factor on significantly positive ρ (and the ceiling's on a blocked doubling).
    pub up: f64,
    /// η's factor on an overshoot, a plateau or a line rise.
    pub down: f64,
    /// η's factor on a stall or a blow-up.
    pub cut: f64,
    /// The plateau window's growth per plateau halving.
    pub growth: f64,
    /// [`LINE_MIN_PROBES`] (`auto`).
    pub line_min_probes: usize,
    /// Whether the plateau test runs.
    pub plateau: bool,
    /// Whether the no-progress (stall) test runs.
    pub stall: bool,
    /// Whether the blow-up test runs.
    pub blow_up_test: bool,
    /// [`COOLDOWN`]: the fraction of the run's steps at its end over which η falls to zero
    /// (0: none).
    pub cooldown: f64,
}

impl Tuning {
    /// The frozen rule.
    pub const FROZEN: Tuning = Tuning {
        overshoot_mean: OVERSHOOT_MEAN,
        rho_min_steps: RHO_MIN_STEPS,
        evidence_t: EVIDENCE_T,
        max_window: MAX_WINDOW,
        rho_clip: RHO_CLIP,
        stall_t: STALL_T,
        plateau_min_steps: PLATEAU_MIN_STEPS,
        stall_min_steps: STALL_MIN_STEPS,
        blow_up: BLOW_UP,
        up: 2.0,
        down: 0.5,
        cut: 0.0625,
        growth: 2.0,
        line_min_probes: LINE_MIN_PROBES,
        plateau: true,
        stall: true,
        blow_up_test: true,
        cooldown: COOLDOWN,
    };

    /// The factor η is multiplied by on `decision`.
    pub fn factor(&self, decision: Decision) -> f64 {
        match decision {
            Decision::Keep | Decision::Lift => 1.0,
            Decision::Up => self.up,
            Decision::Overshoot | Decision::Plateau | Decision::LineRise => self.down,
            // No progress at all since the start, or a blow-up: η is far off, and every
            // window spent there is lost.
            Decision::Stalled | Decision::BlowUp => self.cut,
        }
    }

    /// The frozen rule with `variant`'s change; `probe_every`: `auto`'s line probe period,
    /// which the line variants scale too. Returns the tuning and the probe period.
    pub fn of(variant: Variant, probe_every: usize) -> (Tuning, usize) {
        let mut t = Tuning::FROZEN;
        let mut every = probe_every;
        let scale = |n: usize, s: f64| ((n as f64 * s).round() as usize).max(1);
        let (group, s) = variant.group();
        match group {
            Group::None => {}
            Group::NoPlateau => t.plateau = false,
            Group::NoStall => t.stall = false,
            Group::NoBlowUp => t.blow_up_test = false,
            Group::NoCooldown => t.cooldown = 0.0,
            Group::Cooldown => t.cooldown = (t.cooldown * s).min(1.0),
            Group::Evidence => t.evidence_t *= s,
            Group::Overshoot => t.overshoot_mean *= s,
            Group::Clip => t.rho_clip *= s,
            Group::ShortWindows => {
                t.rho_min_steps = scale(t.rho_min_steps, s);
                t.stall_min_steps = scale(t.stall_min_steps, s);
            }
            Group::LongWindows => {
                t.max_window = scale(t.max_window, s);
                t.plateau_min_steps = scale(t.plateau_min_steps, s);
            }
            Group::LossT => t.stall_t *= s,
            // A factor is scaled in its logarithm: ×2 "halved" is ×√2, not ×1.
            Group::Factors => {
                t.up = t.up.powf(s);
                t.down = t.down.powf(s);
                t.cut = t.cut.powf(s);
                t.growth = t.growth.powf(s);
            }
            Group::BlowUp => t.blow_up = t.blow_up.powf(s),
            Group::Line => {
                t.line_min_probes = scale(t.line_min_probes, s);
                every = scale(every, s);
            }
        }
        (t, every)
    }
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning::FROZEN
    }
}

/// What a variant changes.
enum Group {
    None,
    NoPlateau,
    NoStall,
    NoBlowUp,
    NoCooldown,
    Cooldown,
    Evidence,
    Overshoot,
    Clip,
    ShortWindows,
    LongWindows,
    LossT,
    Factors,
    BlowUp,
    Line,
}

/// The ablations of docs/evaluation.md §6: a test switched off, or one group of constants
/// scaled by ½ or 2 (factors in their logarithm).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The frozen rule.
    #[default]
    Frozen,
    /// Without the plateau test.
    NoPlateau,
    /// Without the no-progress (stall) test.
    NoStall,
    /// Without the blow-up test.
    NoBlowUp,
    /// Without the cooldown: η stays the rule's to the end.
    NoCooldown,
    /// The cooldown ×½ (the last 10% of the steps).
    CooldownHalf,
    /// The cooldown ×2 (the last 40% of the steps).
    CooldownDouble,
    /// The t bound of evidence ×½ (1.5).
    EvidenceHalf,
    /// The t bound of evidence ×2 (6).
    EvidenceDouble,
    /// The overshoot bound on ρ's mean ×½ (−0.15).
    OvershootHalf,
    /// The overshoot bound on ρ's mean ×2 (−0.6).
    OvershootDouble,
    /// ρ's clip ×½ (0.5).
    ClipHalf,
    /// ρ's clip ×2 (2).
    ClipDouble,
    /// The ρ window and the stall window ×½ (15, 30 steps).
    ShortWindowsHalf,
    /// The ρ window and the stall window ×2 (60, 120 steps).
    ShortWindowsDouble,
    /// The sliding window and the first plateau window ×½ (1,000, 250 steps).
    LongWindowsHalf,
    /// The sliding window and the first plateau window ×2 (4,000, 1,000 steps).
    LongWindowsDouble,
    /// The loss tests' Welch t bound ×½ (−1).
    LossTHalf,
    /// The loss tests' Welch t bound ×2 (−4).
    LossTDouble,
    /// Every factor to the power ½ (up ×√2, down ×1/√2, cut ×¼, growth ×√2).
    FactorsHalf,
    /// Every factor squared (up ×4, down ×¼, cut ×1/256, growth ×4).
    FactorsDouble,
    /// The blow-up ratio to the power ½ (√2).
    BlowUpHalf,
    /// The blow-up ratio squared (4).
    BlowUpDouble,
    /// The line test's probes and probe period ×½ (4 probes, every 2 steps).
    LineHalf,
    /// The line test's probes and probe period ×2 (16 probes, every 8 steps).
    LineDouble,
}

impl Variant {
    fn group(self) -> (Group, f64) {
        use Variant::*;
        match self {
            Frozen => (Group::None, 1.0),
            NoPlateau => (Group::NoPlateau, 1.0),
            NoStall => (Group::NoStall, 1.0),
            NoBlowUp => (Group::NoBlowUp, 1.0),
            NoCooldown => (Group::NoCooldown, 1.0),
            CooldownHalf => (Group::Cooldown, 0.5),
            CooldownDouble => (Group::Cooldown, 2.0),
            EvidenceHalf => (Group::Evidence, 0.5),
            EvidenceDouble => (Group::Evidence, 2.0),
            OvershootHalf => (Group::Overshoot, 0.5),
            OvershootDouble => (Group::Overshoot, 2.0),
            ClipHalf => (Group::Clip, 0.5),
            ClipDouble => (Group::Clip, 2.0),
            ShortWindowsHalf => (Group::ShortWindows, 0.5),
            ShortWindowsDouble => (Group::ShortWindows, 2.0),
            LongWindowsHalf => (Group::LongWindows, 0.5),
            LongWindowsDouble => (Group::LongWindows, 2.0),
            LossTHalf => (Group::LossT, 0.5),
            LossTDouble => (Group::LossT, 2.0),
            FactorsHalf => (Group::Factors, 0.5),
            FactorsDouble => (Group::Factors, 2.0),
            BlowUpHalf => (Group::BlowUp, 0.5),
            BlowUpDouble => (Group::BlowUp, 2.0),
            LineHalf => (Group::Line, 0.5),
            LineDouble => (Group::Line, 2.0),
        }
    }
}
