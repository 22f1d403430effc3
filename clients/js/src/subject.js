// Subjects as PROTOCOL.md defines them: dot-separated non-empty tokens without whitespace;
// `*` matches one token and `>` one or more trailing ones. Checked here before anything is
// sent, so a mistake fails at the call that made it rather than as a later -ERR.
import { PsychoError } from './errors.js';

const WHITESPACE = /[\s]/;

/**
 * @param {unknown} subject
 * @param {{wildcards: boolean, what?: string}} rules whether `*` and `>` tokens are allowed
 * @returns {string} the subject
 * @throws {PsychoError} kind `bad_subject`
 */
export function checkSubject(subject, { wildcards, what = 'subject' }) {
  if (typeof subject !== 'string' || subject === '') {
    throw new PsychoError('bad_subject', `${what} must be a non-empty string`);
  }
  if (WHITESPACE.test(subject)) {
    throw new PsychoError('bad_subject', `${what} ${JSON.stringify(subject)} contains whitespace`);
  }
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    if (token === '') {
      throw new PsychoError('bad_subject', `${what} ${JSON.stringify(subject)} has an empty token`);
    }
    if (token === '*' || token === '>') {
      if (!wildcards) {
        throw new PsychoError('bad_subject', `${what} ${JSON.stringify(subject)} has a wildcard`);
      }
      if (token === '>' && i !== tokens.length - 1) {
        throw new PsychoError('bad_subject', `'>' must be the last token of ${JSON.stringify(subject)}`);
      }
    }
  });
  return subject;
}

/**
 * A queue group name: one token, no whitespace.
 * @param {unknown} queue
 * @returns {string}
 */
export function checkQueue(queue) {
  if (typeof queue !== 'string' || queue === '' || WHITESPACE.test(queue)) {
    throw new PsychoError('bad_subject', 'a queue group must be a non-empty string without whitespace');
  }
  return queue;
}

/**
 * A compiled pattern: whether a literal subject matches it.
 * @param {string} pattern
 * @returns {(subject: string) => boolean}
 */
export function compilePattern(pattern) {
  if (!pattern.includes('*') && !pattern.includes('>')) return (subject) => subject === pattern;
  const want = pattern.split('.');
  const tail = want[want.length - 1] === '>';
  return (subject) => {
    const got = subject.split('.');
    if (tail ? got.length < want.length : got.length !== want.length) return false;
    for (let i = 0; i < want.length; ++i) {
      if (want[i] === '>') return true;
      if (want[i] !== '*' && want[i] !== got[i]) return false;
    }
    return true;
  };
}
