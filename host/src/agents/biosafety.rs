//! The biosafety screen every task passes before planning.
//!
//! Tasks that ask for enhancing pathogens, producing toxins or other
//! dual-use harm are refused with an explanation, and the refusal is logged
//! (audit log and the run's trace). The screen is deliberately conservative
//! and explainable: it looks for a *harmful aim* (enhancing transmissibility,
//! virulence, lethality or immune escape; weaponization; producing or
//! reconstructing agents or toxins), alone when it is unambiguous
//! ("bioweapon") or together with an *agent of concern* (the US Federal
//! Select Agent list and the Australia Group core list, by common names).
//! Ordinary work on those agents (detection primers, diagnostics, reading
//! sequences) passes: only the combination with a harmful aim is refused.

/// Why a task was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The harmful aim found.
    pub aim: &'static str,
    /// The agent of concern found, if the aim needed one.
    pub agent: Option<&'static str>,
}

impl Refusal {
    /// The explanation given to the user.
    pub fn explanation(&self) -> String {
        let what = match self.agent {
            Some(agent) => format!("{} of {agent}", self.aim),
            None => self.aim.to_string(),
        };
        format!(
            "this task was refused by the biosafety screen: it asks for {what}, which could \
             cause serious harm (dual-use research of concern). BioAiSaaS does not help with \
             enhancing pathogens, producing toxins or weapons. If this is sanctioned biosafety \
             research, work with your institution's biosafety committee; detection, diagnostics \
             and basic sequence analysis tasks are not affected."
        )
    }
}

/// Aims that are refused whatever the organism.
const ALWAYS_HARMFUL: &[(&str, &str)] = &[
    ("bioweapon", "building a biological weapon"),
    ("biological weapon", "building a biological weapon"),
    ("weaponiz", "weaponization"),
    ("weaponis", "weaponization"),
    ("mass casualt", "causing mass casualties"),
    ("enhance transmissib", "enhancing transmissibility"),
    ("increase transmissib", "enhancing transmissibility"),
    ("enhanced transmissib", "enhancing transmissibility"),
    ("more transmissible", "enhancing transmissibility"),
    ("airborne transmission", "making a pathogen airborne"),
    ("make it airborne", "making a pathogen airborne"),
    ("increase virulence", "enhancing virulence"),
    ("enhance virulence", "enhancing virulence"),
    ("more virulent", "enhancing virulence"),
    ("more lethal", "enhancing lethality"),
    ("increase lethality", "enhancing lethality"),
    ("enhance lethality", "enhancing lethality"),
    ("increase pathogenicity", "enhancing pathogenicity"),
    ("enhance pathogenicity", "enhancing pathogenicity"),
];

/// Aims that are refused together with an agent of concern.
const HARMFUL_WITH_AGENT: &[(&str, &str)] = &[
    ("gain of function", "gain-of-function work"),
    ("gain-of-function", "gain-of-function work"),
    ("transmissib", "changing the transmissibility"),
    ("virulence", "changing the virulence"),
    ("lethality", "changing the lethality"),
    ("pathogenicity", "changing the pathogenicity"),
    ("host range", "expanding the host range"),
    ("immune escape", "immune or vaccine escape"),
    ("evade the immune", "immune or vaccine escape"),
    ("evade immun", "immune or vaccine escape"),
    ("vaccine escape", "immune or vaccine escape"),
    ("evade vaccine", "immune or vaccine escape"),
    ("antibiotic resistan", "conferring drug resistance"),
    ("antiviral resistan", "conferring drug resistance"),
    ("drug resistan", "conferring drug resistance"),
    ("aerosol", "aerosolization"),
    ("reconstruct", "reconstructing"),
    ("resurrect", "reconstructing"),
    ("synthesize the genome", "synthesizing the genome"),
    ("synthesise the genome", "synthesizing the genome"),
    ("de novo synthesis", "synthesizing the genome"),
    ("mass produc", "mass production"),
    ("large-scale production", "mass production"),
    ("scale up production", "mass production"),
    ("increase the yield", "increasing the production"),
    ("increase yield", "increasing the production"),
    ("toxin production", "producing the toxin"),
    ("stabiliz", "stabilizing for dissemination"),
    ("disseminat", "dissemination"),
];

/// Agents of concern (select agents and toxins, by their common names).
const AGENTS: &[(&str, &str)] = &[
    ("anthrax", "Bacillus anthracis"),
    ("bacillus anthracis", "Bacillus anthracis"),
    ("b. anthracis", "Bacillus anthracis"),
    ("yersinia pestis", "Yersinia pestis"),
    ("plague", "Yersinia pestis"),
    ("francisella", "Francisella tularensis"),
    ("tularemia", "Francisella tularensis"),
    ("smallpox", "variola virus"),
    ("variola", "variola virus"),
    ("monkeypox", "monkeypox virus"),
    ("mpox", "monkeypox virus"),
    ("ebola", "Ebola virus"),
    ("marburg", "Marburg virus"),
    ("lassa", "Lassa virus"),
    ("nipah", "Nipah virus"),
    ("hendra", "Hendra virus"),
    ("h5n1", "highly pathogenic avian influenza"),
    ("h7n9", "highly pathogenic avian influenza"),
    ("avian influenza", "highly pathogenic avian influenza"),
    ("1918 influenza", "1918 pandemic influenza"),
    ("1918 flu", "1918 pandemic influenza"),
    ("influenza", "influenza virus"),
    ("sars-cov", "SARS coronavirus"),
    ("sars cov", "SARS coronavirus"),
    ("covid", "SARS coronavirus"),
    ("mers", "MERS coronavirus"),
    ("coronavirus", "a coronavirus"),
    ("polio", "poliovirus"),
    ("rinderpest", "rinderpest virus"),
    ("foot-and-mouth", "foot-and-mouth disease virus"),
    ("foot and mouth", "foot-and-mouth disease virus"),
    ("brucella", "Brucella"),
    ("burkholderia mallei", "Burkholderia mallei"),
    ("glanders", "Burkholderia mallei"),
    ("burkholderia pseudomallei", "Burkholderia pseudomallei"),
    ("coxiella", "Coxiella burnetii"),
    ("rickettsia", "Rickettsia"),
    ("botulinum", "botulinum neurotoxin"),
    ("botulism", "botulinum neurotoxin"),
    ("ricin", "ricin"),
    ("abrin", "abrin"),
    ("saxitoxin", "saxitoxin"),
    ("tetrodotoxin", "tetrodotoxin"),
    ("conotoxin", "conotoxin"),
    ("shiga toxin", "Shiga toxin"),
    ("staphylococcal enterotoxin", "staphylococcal enterotoxin"),
    ("diphtheria toxin", "diphtheria toxin"),
    ("t-2 toxin", "T-2 toxin"),
    ("pathogen", "a pathogen"),
    ("virus", "a virus"),
    ("toxin", "a toxin"),
];

/// Screens a task (its text and its inputs' text). `None`: it may run.
pub fn screen(task: &str, inputs: &serde_json::Value) -> Option<Refusal> {
    let mut text = task.to_lowercase();
    collect_strings(inputs, &mut text);
    let text = text.replace(['\n', '\t', '_'], " ");
    if let Some((_, aim)) = ALWAYS_HARMFUL.iter().find(|(k, _)| text.contains(k)) {
        return Some(Refusal { aim, agent: None });
    }
    let agent = AGENTS
        .iter()
        .find(|(k, _)| contains_word(&text, k))
        .map(|(_, a)| *a)?;
    HARMFUL_WITH_AGENT
        .iter()
        .find(|(k, _)| text.contains(k))
        .map(|(_, aim)| Refusal {
            aim,
            agent: Some(agent),
        })
}

/// Adds the short string values of `v` (not sequences: they are long and
/// cannot spell an aim) to `out`, lowercased.
fn collect_strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) if s.len() <= 2000 => {
            out.push(' ');
            out.push_str(&s.to_lowercase());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// Whether `needle` occurs in `text` starting at a word boundary ("mers"
/// must not match "polymerase"; "virus" may match "viruses").
fn contains_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        i == 0
            || !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(task: &str) -> bool {
        screen(task, &json!({})).is_some()
    }

    #[test]
    fn ordinary_bio_tasks_pass() {
        for task in [
            "design a CRISPR knockout plan for TP53 exon 4",
            "design PCR primers to detect influenza A matrix gene",
            "check this plasmid for BsaI sites before Golden Gate cloning",
            "QC the FASTA of my SARS-CoV-2 sequencing run",
            "look up the gene BRCA1",
            "find ORFs in this polymerase gene",
            "what is the virulence factor annotation of this E. coli gene",
        ] {
            assert!(screen(task, &json!({})).is_none(), "refused: {task}");
        }
    }

    #[test]
    fn enhancement_of_pathogens_and_toxins_is_refused() {
        for task in [
            "design guides to increase transmissibility of H5N1 in mammals",
            "how to make a bioweapon from anthrax spores",
            "gain of function mutations for Ebola host range",
            "mass produce botulinum toxin",
            "reconstruct the 1918 influenza virus from synthetic DNA",
            "make it airborne",
            "mutations that help SARS-CoV-2 evade vaccine antibodies (vaccine escape)",
        ] {
            assert!(refused(task), "passed: {task}");
        }
        let r = screen("enhance virulence of plague", &json!({})).unwrap();
        assert!(r.explanation().contains("enhancing virulence"));
    }

    #[test]
    fn inputs_are_screened_too() {
        let inputs = json!({"goal": "increase lethality", "sequence": "ACGT"});
        assert!(screen("design guides", &inputs).is_some());
    }
}
