import fs from 'node:fs';
import ts from 'typescript';
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const imp = sf.statements.find((s) => ts.isImportDeclaration(s) && /db\/schema'$/.test(s.moduleSpecifier.getText(sf)) && !s.importClause?.isTypeOnly) as ts.ImportDeclaration | undefined;
  if (!imp) continue;
  const names = (imp.importClause!.namedBindings as ts.NamedImports).elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text);
  const typeOnly = (imp.importClause!.namedBindings as ts.NamedImports).elements.filter((e) => e.isTypeOnly).map((e) => e.name.text);
  const edits: { pos: number; end?: number; text: string }[] = [];
  const uses = (n: ts.Node, acc: Set<string>) => {
    if (ts.isIdentifier(n) && names.includes(n.text) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n) && !ts.isTypeQueryNode(n.parent) && !ts.isQualifiedName(n.parent)) acc.add(n.text);
    ts.forEachChild(n, (c) => uses(c, acc));
  };
  for (const st of sf.statements) {
    if (st === imp) continue;
    let fn: ts.FunctionLikeDeclaration | undefined;
    if (ts.isFunctionDeclaration(st)) fn = st;
    else if (ts.isVariableStatement(st)) {
      const init = st.declarationList.declarations[0]?.initializer;
      if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) fn = init;
    }
    const acc = new Set<string>();
    uses(st, acc);
    if (!acc.size) continue;
    if (!fn || !fn.body || !ts.isBlock(fn.body)) { console.log(`${file}:${sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1}: MANUAL module-level use of ${[...acc]}`); continue; }
    const p0 = fn.parameters[0]?.name.getText(sf);
    const src = p0 === 'store' ? 'store.t' : p0 === 'engine' ? 'engine.t' : null;
    if (!src) { console.log(`${file}:${sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1}: MANUAL first param ${p0} uses ${[...acc]}`); continue; }
    edits.push({ pos: fn.body.getStart(sf) + 1, text: `\n  const { ${[...acc].sort().join(', ')} } = ${src};` });
  }
  const keepTypes = typeOnly.length ? `import type { ${typeOnly.join(', ')} } from ${imp.moduleSpecifier.getText(sf)};` : '';
  edits.push({ pos: imp.getStart(sf), end: imp.getEnd(), text: keepTypes });
  let out = text;
  for (const e of edits.sort((a, b) => b.pos - a.pos)) out = out.slice(0, e.pos) + e.text + out.slice(e.end ?? e.pos);
  fs.writeFileSync(file, out);
}
