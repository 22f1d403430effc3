// A small WebAudio voice per note: an oscillator through an envelope, started and stopped at
// AudioContext times, so that notes land when they are scheduled, not when they arrive.

/** @param {number} midi @returns {number} hertz */
export function frequency(midi) {
  return 440 * 2 ** ((midi - 69) / 12);
}

const NAMES = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];
/** @param {number} midi @returns {string} e.g. "C4" */
export function noteName(midi) {
  return `${NAMES[midi % 12]}${Math.floor(midi / 12) - 1}`;
}

export class Synth {
  /** @param {AudioContext} context */
  constructor(context) {
    this.context = context;
    this.wave = 'triangle';
    this.master = context.createGain();
    this.master.gain.value = 0.25;
    this.master.connect(context.destination);
    /** @type {Map<string, {osc: OscillatorNode, gain: GainNode}>} sounding voices by player+note */
    this.voices = new Map();
  }

  /** Starts `midi` at AudioContext time `at` for `voiceKey` (one voice per player and note). */
  start(voiceKey, midi, at) {
    this.stop(voiceKey, at);
    const osc = this.context.createOscillator();
    const gain = this.context.createGain();
    osc.type = this.wave;
    osc.frequency.value = frequency(midi);
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.8, at + 0.01);
    gain.gain.setTargetAtTime(0.5, at + 0.01, 0.2);
    osc.connect(gain).connect(this.master);
    osc.start(at);
    // However a note-off goes missing, no voice sounds for ever.
    osc.stop(at + 4);
    this.voices.set(voiceKey, { osc, gain });
    osc.addEventListener('ended', () => {
      if (this.voices.get(voiceKey)?.osc === osc) this.voices.delete(voiceKey);
    });
  }

  /** Releases `voiceKey`'s note at AudioContext time `at`. */
  stop(voiceKey, at) {
    const voice = this.voices.get(voiceKey);
    if (!voice) return;
    this.voices.delete(voiceKey);
    const when = Math.max(at, this.context.currentTime);
    voice.gain.gain.cancelScheduledValues(when);
    voice.gain.gain.setTargetAtTime(0, when, 0.05);
    voice.osc.stop(when + 0.3);
  }
}
