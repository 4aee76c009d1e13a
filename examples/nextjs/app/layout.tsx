import type { ReactNode } from 'react';
import './globals.css';

export const metadata = {
  title: 'clerk-sync · Next.js example',
  description: 'Clerk data mirrored into Postgres by clerk-sync, read with Drizzle',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header>
          <a href="/">clerk-sync example</a> · <a href="/notes">My notes</a>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
