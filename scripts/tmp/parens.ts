import fs from 'node:fs';
import ts from 'typescript';
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edits: [number, number][] = [];
  const visit = (n: ts.Node) => {
    if (ts.isParenthesizedExpression(n) && ts.isAwaitExpression(n.expression)) {
      const p = n.parent;
      const safe = ts.isExpressionStatement(p) || (ts.isVariableDeclaration(p) && p.initializer === n) || ts.isReturnStatement(p) || ts.isPropertyAssignment(p) || (ts.isCallExpression(p) && p.arguments.includes(n as ts.Expression)) || (ts.isArrowFunction(p) && p.body === n) || ts.isSpreadElement(p) || ts.isArrayLiteralExpression(p) || ts.isForOfStatement(p);
      if (safe) { edits.push([n.getStart(sf), n.getEnd()]); }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  let out = text;
  for (const [s, e] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, s) + out.slice(s + 1, e - 1) + out.slice(e);
  if (out !== text) { fs.writeFileSync(file, out); console.log(file, edits.length); }
}
