'use client';
import { useActionState } from 'react';
import { generateReport, type ReportState } from './actions';

export function ReportForm({ orgId }: { orgId: string }) {
  const [state, action, pending] = useActionState<ReportState, FormData>(generateReport, { status: 'idle' });
  return (
    <form action={action}>
      <input type="hidden" name="orgId" value={orgId} />
      <button type="submit" id="generate-report" disabled={pending}>
        {pending ? 'Generating…' : 'Generate report'}
      </button>
      <div id="report-result" data-status={state.status} aria-live="polite">
        {state.status === 'unauthenticated' && <p className="denied">Sign in first (use an “Act as” button).</p>}
        {state.status === 'forbidden' && (
          <p className="denied">
            Forbidden: this needs <code>{state.permission}</code>.
          </p>
        )}
        {state.status === 'ok' && (
          <>
            <p className="ok">
              {state.total} active members, generated {state.generatedAt}.
            </p>
            <table>
              <thead>
                <tr>
                  <th>Role</th>
                  <th>Members</th>
                </tr>
              </thead>
              <tbody>
                {state.byRole.map((r) => (
                  <tr key={r.role} data-role={r.role}>
                    <td>
                      <code>{r.role}</code>
                    </td>
                    <td>{r.members}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </form>
  );
}
