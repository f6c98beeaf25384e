// #/login: e-mail and password for a login token (OAuth 2 password grant, form-encoded).

import { api, ApiError, setToken } from "../api";
import { h } from "../dom";
import type { Problem } from "../types";

interface TokenOut {
  access_token: string;
  expires_in: number;
}

function message(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Wrong e-mail address or password.";
    if (error.status === 429) return error.message || "Too many attempts; try again later.";
    if (error.status === 422) {
      const problem: Problem | null = error.problem;
      return problem?.errors?.length ? "Enter your e-mail address and password." : error.message;
    }
    return error.message;
  }
  return "The service cannot be reached.";
}

export function loginPage(done: () => void | Promise<void>): HTMLElement {
  const email = h("input", {
    type: "email",
    name: "username",
    autocomplete: "username",
    required: true,
    autofocus: true,
    "data-testid": "login-email",
  });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "login-password",
  });
  const error = h("p", { class: "login-error", role: "alert", "data-testid": "login-error" });
  error.hidden = true;
  const submit = h(
    "button",
    { type: "submit", class: "primary", "data-testid": "login-submit" },
    "Log in",
  );
  const form = h(
    "form",
    { class: "login-form", novalidate: true },
    h("h1", null, "evfleet"),
    h("p", { class: "muted" }, "Dispatcher dashboard"),
    h("label", null, "E-mail", email),
    h("label", null, "Password", password),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!email.value.trim() || !password.value) {
      error.textContent = "Enter your e-mail address and password.";
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      const body = new URLSearchParams({
        grant_type: "password",
        username: email.value.trim(),
        password: password.value,
      });
      const token = await api<TokenOut>("/auth/token", { form: body, anonymous: true });
      setToken(token.access_token);
      password.value = "";
      await done();
    } catch (failure) {
      error.textContent = message(failure);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return h("div", { class: "login" }, form);
}
