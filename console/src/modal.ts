// A modal <dialog> opened from outside the component tree (api.ts asks for the token, views ask for
// a confirmation): open(request) shows it; the component mounted once in main.ts renders the request
// and calls close(). The browser's <dialog> gives focus trapping and Escape (its "cancel" event).
import { useEffect, useRef, useState } from 'preact/hooks';

export function modalChannel<Request>() {
  let show: ((request: Request) => void) | null = null;
  return {
    /** false when no dialog component is mounted */
    open(request: Request): boolean {
      if (!show) return false;
      show(request);
      return true;
    },
    useModal() {
      const [request, setRequest] = useState<Request | null>(null);
      const ref = useRef<HTMLDialogElement>(null);
      useEffect(() => {
        show = setRequest;
        return () => {
          show = null;
        };
      }, []);
      useEffect(() => {
        const dialog = ref.current;
        if (request && dialog && !dialog.open) dialog.showModal();
      }, [request]);
      const close = () => {
        setRequest(null);
        ref.current?.close();
      };
      return { request, ref, close };
    },
  };
}
