// The program a user writes, shared by the Node run (app.mjs) and the browser bundle
// (browser.mjs): builds a small graph, trains it on the CPU backend, saves the model file,
// loads it back (through `roundTrip`: a file under Node, nothing in a browser) and checks that
// the reloaded model predicts the same.
import * as kiln from 'kiln';

export async function trainSaveLoad(roundTrip = async (bytes) => bytes) {
  const g = new kiln.Graph();
  const x = g.placeholder('float32', [null, 2], 'x');
  const y = g.placeholder('float32', [null, 1], 'y');
  const w = g.variable(kiln.tensor([[0], [0]]), 'w');
  const b = g.variable(kiln.tensor([0]), 'b');
  const pred = kiln.add(kiln.matMul(x, w), b);
  const loss = kiln.losses.meanSquaredError(y, pred);
  const step = kiln.train.sgd(0.3).minimize(loss);

  // y = 2 a - 3 b + 1 on a fixed grid.
  const xs = [];
  const ys = [];
  for (let i = 0; i < 64; i++) {
    const a = (i % 8) / 4 - 1;
    const c = Math.floor(i / 8) / 4 - 1;
    xs.push(a, c);
    ys.push(2 * a - 3 * c + 1);
  }
  const feeds = { x: kiln.tensor(xs, [64, 2]), y: kiln.tensor(ys, [64, 1]) };

  const sess = await kiln.session(g, { backend: 'cpu' });
  const [first] = await sess.run([loss], feeds);
  for (let i = 0; i < 200; i++) await sess.run([step], feeds);
  const [last, before] = await sess.run([loss, pred], feeds);
  console.log(`train: loss ${first.data[0].toFixed(4)} -> ${last.data[0].toExponential(2)}`);
  if (!(last.data[0] < 1e-3)) throw new Error(`training did not converge: loss ${last.data[0]}`);

  // Save with the trained values, load back, predict again.
  const variables = new Map(g.variables().map((n) => [n, sess.getVariable(n.output)]));
  const bytes = kiln.serializeGraph(g, { variables });
  const g2 = kiln.deserializeGraph(await roundTrip(bytes));
  const sess2 = await kiln.session(g2, { backend: 'cpu' });
  const [after] = await sess2.run([g2.tensorByName(pred.name)], { x: feeds.x });
  const same = before.data.every((v, i) => v === after.data[i]);
  console.log(`save/load: ${bytes.length} bytes, predictions ${same ? 'identical' : 'DIFFER'}`);
  if (!same) throw new Error('reloaded model predicts differently');
  sess.dispose();
  sess2.dispose();
  console.log('ok');
}
