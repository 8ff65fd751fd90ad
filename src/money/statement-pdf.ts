/**
 * A patient statement as a PDF (Invoice/[id]/$statement with Accept: application/pdf), drawn with pdfkit: the same
 * content as the HTML page, on US Letter, in the standard Helvetica fonts (no font files to ship).
 */
import PDFDocument from 'pdfkit';
import { BUCKETS } from './aging.js';
import { usd, type Statement } from './statement.js';

const COLUMNS = [
  { title: 'Date', width: 62 },
  { title: 'Code', width: 42 },
  { title: 'Service', width: 126 },
  { title: 'Billed', width: 62 },
  { title: 'Insurance paid', width: 80 },
  { title: 'Adjustments', width: 70 },
  { title: 'You owe', width: 62 },
];

export function statementPdf(s: Statement): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'LETTER', margin: 48, info: { Title: `Statement ${s.invoiceId}`, Author: s.clinic.name } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.font('Helvetica-Bold').fontSize(18).text(s.clinic.name);
  doc.font('Helvetica').fontSize(10).text([s.clinic.address, s.clinic.phone].filter(Boolean).join('  -  '));
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(13).text(`Statement for ${s.patient.name}`);
  doc.font('Helvetica').fontSize(10);
  if (s.patient.address) doc.text(s.patient.address);
  doc.text(`Statement ${s.invoiceId}, issued ${s.issued}${s.period ? `, services ${s.period}` : ''}`);
  doc.moveDown();
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    let x = doc.page.margins.left;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    let height = 0;
    cells.forEach((c, i) => {
      const col = COLUMNS[i]!;
      doc.text(c, x, y, { width: col.width - 4, align: i >= 3 ? 'right' : 'left' });
      height = Math.max(height, doc.y - y);
      x += col.width;
    });
    doc.x = doc.page.margins.left;
    doc.y = y + height + 3;
    if (doc.y > doc.page.height - 120) doc.addPage();
  };
  row(COLUMNS.map((c) => c.title), true);
  for (const l of s.lines) row([l.date, l.code, l.description, usd(l.billed), usd(l.insurancePaid), usd(l.adjustments), usd(l.patientOwes)]);
  row(['Total', '', '', usd(s.totals.billed), usd(s.totals.insurancePaid), usd(s.totals.adjustments), usd(s.totals.patientOwes)], true);
  doc.moveDown();
  doc.font('Helvetica').fontSize(10).text(`Amount of this statement: ${usd(s.invoiced)}. Paid since: ${usd(s.paidSince)}.`);
  doc.font('Helvetica-Bold').fontSize(14).text(`Amount due: ${usd(s.due)}`);
  doc.moveDown();
  doc.font('Helvetica').fontSize(10).text(`Aging of your balance as of ${s.asOf} (days since the date of service):`);
  doc.text(BUCKETS.map((b, i) => `${b === 'over-120' ? 'over 120' : b} days: ${usd(s.aging[i]!)}`).join('    '));
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(12).text('How to pay');
  doc.font('Helvetica').fontSize(10).text(s.howToPay);
  doc.end();
  return done;
}
