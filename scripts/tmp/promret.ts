import fs from 'node:fs';
import ts from 'typescript';
// input lines: file(line,col)
const byFile = new Map<string, [number, number][]>();
for (const l of fs.readFileSync(0, 'utf8').split('\n')) {
  const m = /^(.+?)\((\d+),(\d+)\): error TS1064/.exec(l);
  if (m) (byFile.get(m[1]) ?? byFile.set(m[1], []).get(m[1])!).push([+m[2], +m[3]]);
}
for (const [file, locs] of byFile) {
  let text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edits: [number, number][] = [];
  for (const [l, c] of locs) {
    const pos = sf.getPositionOfLineAndCharacter(l - 1, c - 1);
    const find = (n: ts.Node): ts.Node | undefined => (ts.isTypeNode(n) && n.getStart(sf) === pos ? n : ts.forEachChild(n, find));
    const t = find(sf);
    if (t) edits.push([t.getStart(sf), t.getEnd()]);
  }
  for (const [s, e] of edits.sort((a, b) => b[0] - a[0])) text = text.slice(0, s) + `Promise<${text.slice(s, e)}>` + text.slice(e);
  fs.writeFileSync(file, text);
}
