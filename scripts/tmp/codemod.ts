// One-off codemod: drizzle sync terminals -> awaits; enclosing functions async; tables from store.t.
import fs from 'node:fs';
import ts from 'typescript';

const files = process.argv.slice(2);
const ASYNC_NAMES = new Set((process.env.ASYNC_NAMES ?? '').split(',').filter(Boolean));
const TERMINALS = new Set(['get', 'all', 'run']);

for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  type Edit = { start: number; end: number; node: ts.Node; kind: 'get' | 'all' | 'run' | 'await'; recv: ts.Node };
  const matches: Edit[] = [];
  const asyncFns = new Set<ts.Node>();
  const enclosingFn = (n: ts.Node): ts.FunctionLikeDeclaration | undefined => {
    for (let p = n.parent; p; p = p.parent) if (ts.isFunctionDeclaration(p) || ts.isArrowFunction(p) || ts.isFunctionExpression(p) || ts.isMethodDeclaration(p)) return p as ts.FunctionLikeDeclaration;
    return undefined;
  };
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && TERMINALS.has(n.expression.name.text) && n.arguments.length === 0) {
      const recvText = n.expression.expression.getText(sf);
      if (!recvText.includes('$client') && !recvText.includes('prepare(') && !/^(stmt|stmts|s)\b/.test(recvText)) {
        matches.push({ start: n.getStart(sf), end: n.getEnd(), node: n, kind: n.expression.name.text as 'get', recv: n.expression.expression });
        const f = enclosingFn(n);
        if (f) asyncFns.add(f);
      }
    }
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && ASYNC_NAMES.has(n.expression.text) && !ts.isAwaitExpression(n.parent)) {
      matches.push({ start: n.getStart(sf), end: n.getEnd(), node: n, kind: 'await', recv: n });
      const f = enclosingFn(n);
      if (f) asyncFns.add(f);
    }
    // callbacks of writeTx / engine.write / groupCommit.run / savepoint are async
    if (ts.isCallExpression(n)) {
      const callee = n.expression.getText(sf);
      if (/(^writeTx$|\.write$|groupCommit\.run$|\.savepoint$|\.transaction$)/.test(callee)) for (const a of n.arguments) if (ts.isArrowFunction(a) || ts.isFunctionExpression(a)) asyncFns.add(a);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  // rendering with nested replacements
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const render = (start: number, end: number, inner: Edit[]): string => {
    let out = '';
    let pos = start;
    let i = 0;
    while (i < inner.length) {
      const m = inner[i];
      // collect nested inside m
      let j = i + 1;
      while (j < inner.length && inner[j].start < m.end) j++;
      const nested = inner.slice(i + 1, j);
      out += text.slice(pos, m.start);
      const recvStart = m.kind === 'await' ? m.start : m.recv.getStart(sf);
      const recvEnd = m.kind === 'await' ? m.end : m.recv.getEnd();
      const recv = render(recvStart, recvEnd, nested);
      if (m.kind === 'get') out += `first(await ${recv})`;
      else if (m.kind === 'await') out += `(await ${recv})`;
      else out += `(await ${recv})`;
      pos = m.end;
      i = j;
    }
    return out + text.slice(pos, end);
  };
  // asyncs: insert 'async ' before functions not already async
  const asyncInserts: number[] = [];
  for (const f of asyncFns) {
    const mods = ts.getModifiers(f as ts.HasModifiers) ?? [];
    if (mods.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) continue;
    let pos: number;
    if (ts.isFunctionDeclaration(f)) pos = f.getStart(sf) + (mods.length ? text.slice(f.getStart(sf)).indexOf('function') : 0);
    else if (ts.isMethodDeclaration(f)) pos = f.name.getStart(sf);
    else pos = f.getStart(sf);
    asyncInserts.push(pos);
  }
  // build output: apply render to whole file but also insert async keywords; insert keywords via position map
  let out = render(0, text.length, matches);
  // asyncs: apply on original positions -> need mapping; simpler: do async insertion first on original text then re-run
  if (asyncInserts.length) {
    let t2 = text;
    for (const p of asyncInserts.sort((a, b) => b - a)) t2 = t2.slice(0, p) + 'async ' + t2.slice(p);
    fs.writeFileSync(file, t2);
    console.log(`${file}: +${asyncInserts.length} async (rerun for terminals)`);
    continue;
  }
  if (out !== text) {
    if (!/\bfirst\b.*from '\.\/engine'|import \{[^}]*\bfirst\b/.test(out) && out.includes('first(await')) out = out.replace(/^(import[^\n]*\n)/m, `$1`);
    fs.writeFileSync(file, out);
    console.log(`${file}: ${matches.length} edits`);
  }
}
