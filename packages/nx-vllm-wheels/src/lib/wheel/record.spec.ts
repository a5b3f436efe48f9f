import { python } from './test-support/python';
import { createRecordHasher, formatHash, hashBytes, parseHash, parseRecord, type RecordEntry, serializeRecord } from './record';

const H = hashBytes(Buffer.from('x'));

describe('RECORD', () => {
  it('hashes as sha256 urlsafe base64 without padding', () => {
    expect(formatHash(hashBytes(Buffer.from('hello')))).toBe('sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ');
    const hasher = createRecordHasher();
    hasher.update(Buffer.from('hel'));
    hasher.update(Buffer.from('lo'));
    expect(hasher.digest()).toEqual(hashBytes(Buffer.from('hello')));
  });

  it('round-trips through Python csv: quoting of commas, quotes and line breaks', async () => {
    const entries: RecordEntry[] = [
      { path: 'pkg/plain.py', hash: H, size: 1 },
      { path: 'pkg/with,comma.py', hash: H, size: 1 },
      { path: 'pkg/with "quotes".py', hash: H, size: 1 },
      { path: 'pkg/line\nbreak.py', hash: H, size: 1 },
      { path: 'pkg/ünï.py', hash: H, size: 1 },
      { path: 'x.dist-info/RECORD' },
    ];
    const text = serializeRecord(entries);
    const { stdout } = await python(
      `
import csv, io, json, sys
rows = json.load(sys.stdin)
out = io.StringIO()
csv.writer(out, delimiter=",", quotechar='"', lineterminator="\\n").writerows(rows)
print(json.dumps({"text": out.getvalue(), "parsed": list(csv.reader(io.StringIO(out.getvalue())))}))
`,
      { cwd: process.cwd(), input: entries.map((e) => [e.path, e.hash ? formatHash(e.hash) : '', e.size ?? '']) },
    );
    const py = JSON.parse(stdout) as { text: string; parsed: string[][] };
    expect(text).toBe(py.text); // written exactly like pypa/wheel's csv.writer
    expect(parseRecord(text)).toEqual({ entries, issues: [] });
  });

  it('reads CRLF line ends and skips blank lines', () => {
    const { entries, issues } = parseRecord(`a,${formatHash(H)},1\r\n\r\nb,,\r\n`);
    expect(issues).toEqual([]);
    expect(entries).toEqual([{ path: 'a', hash: H, size: 1 }, { path: 'b' }]);
  });

  it('refuses md5 and sha1, unknown algorithms and badly encoded digests, naming the line', () => {
    const text = [`ok.py,${formatHash(H)},1`, 'a.py,md5=abc,1', 'b.py,sha1=abc,1', 'c.py,foo=abc,1', `d.py,sha256=${H.value}=,1`, 'e.py,sha256,1', 'f.py,,-1', 'g.py,,1,extra', '"h.py'].join('\n');
    const { entries, issues } = parseRecord(text);
    expect(entries.map((e) => e.path)).toEqual(['ok.py']);
    expect(issues).toEqual([
      { line: 2, message: 'a.py: hash algorithm md5 is too weak; RECORD hashes must be sha256 or stronger' },
      { line: 3, message: 'b.py: hash algorithm sha1 is too weak; RECORD hashes must be sha256 or stronger' },
      { line: 4, message: expect.stringContaining('c.py: hash algorithm "foo" is not supported') },
      { line: 5, message: expect.stringContaining('d.py: sha256 digest') },
      { line: 6, message: 'e.py: hash "sha256" is not of the form algorithm=digest' },
      { line: 7, message: 'f.py: size "-1" is not a non-negative integer' },
      { line: 8, message: 'expected 3 fields (path,hash,size), got 4' },
      { line: 9, message: 'a quoted field is not closed before the end of RECORD' },
    ]);
  });

  it('accepts stronger hashes', () => {
    const sha512 = hashBytes(Buffer.from('x'), 'sha512');
    expect(parseHash(formatHash(sha512))).toEqual(sha512);
  });
});
