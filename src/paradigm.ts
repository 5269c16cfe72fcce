/**
 * Paradigm definitions: the class vocabularies that the simulator's marker
 * streams use and that the model's task adapters are trained on. Both
 * `devices/` and `models/` import them from here, so neither depends on the
 * other. The shipped model's logit order depends on these lists: change an
 * entry or its position and that model no longer matches its labels.
 */

/** The paradigms a session (and the simulator) can run. */
export type Paradigm = 'mi' | 'p300' | 'ssvep' | 'speech' | 'rest';
export const PARADIGMS: readonly Paradigm[] = ['mi', 'p300', 'ssvep', 'speech', 'rest'];

/** SSVEP flicker rates, as the marker strings write them (Hz). */
export const SSVEP_FREQS: readonly string[] = ['8.57', '10', '12', '15'];

/** Motor-imagery classes the simulator can cue. */
export const MI_CLASSES: readonly string[] = ['left', 'right', 'feet'];

/** The speech paradigm's word vocabulary, in the model's class order. */
const WORDS = ['yes', 'no', 'help', 'water', 'stop', 'go', 'left', 'right', 'up', 'down'] as const;
export type Word = (typeof WORDS)[number];
export const WORD_LIST: readonly string[] = WORDS;
