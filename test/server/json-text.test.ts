// Syntax errors in hand-edited JSON are located by line and column, without quoting the content.
import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../src/server/json-text.ts';

function issueOf(text: string): { where: string; message: string } {
  const result = parseJsonText(text);
  if (result.ok) throw new Error('expected a syntax error');
  return result.issue;
}

describe('parseJsonText', () => {
  it('gives the value of valid JSON', () => {
    expect(parseJsonText('{"a": [1, true, null]}')).toEqual({ ok: true, value: { a: [1, true, null] } });
  });

  it.each([
    ['{\n  "a": 1,\n  x\n}', 'line 3, column 3'],
    ['[1,]', 'line 1, column 4'],
    ['{"a" 1}', 'line 1, column 6'],
    ['{\n "a": [1,\n 2,,\n]}', 'line 3, column 4'],
    ['{\n"a": tru }', 'line 2, column 9'],
    ['{} x', 'line 1, column 4'],
  ])('locates the error in %j at %s', (text, where) => {
    expect(issueOf(text).where).toBe(where);
  });

  it('says when the file ends too early', () => {
    expect(issueOf('{\n"a":')).toEqual({
      where: 'line 2, column 5',
      message: 'invalid JSON (the file ends too early)',
    });
  });

  it('never quotes the file content in the message', () => {
    const issue = issueOf('{"password": hunter2-secret}');
    expect(issue.message).not.toContain('hunter2');
    expect(issue.message).not.toContain('secret');
    expect(issue.where).toBe('line 1, column 14');
  });
});
