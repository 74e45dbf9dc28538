// The sign-in screen and the session (/api/session): who is signed in,
// signing in and out. app.js starts the page once somebody is signed in,
// and calls ended() when an answer says the session is gone (a 401): the
// sign-in screen comes back, the filters stay in the URL.
'use strict';

window.mailhooksSession = (function () {
  const $ = (id) => document.getElementById(id);
  let onSignedIn = () => {};
  let onEnded = () => {};

  function showForm(note) {
    $('app').hidden = true;
    $('tools').hidden = true;
    $('signin').hidden = false;
    $('signin-note').textContent = note || '';
    $('signin-error').textContent = '';
    $('signin-password').value = '';
    // Signing in again: the name is there, the password is asked.
    $($('signin-user').value ? 'signin-password' : 'signin-user').focus();
  }

  function signedIn(who) {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('tools').hidden = false;
    $('who').textContent = who.user + (who.role === 'admin' ? ' (admin)' : '');
    onSignedIn(who);
  }

  function fail(message, field) {
    $('signin-error').textContent = message;
    $(field).focus();
    $(field).select();
  }

  async function submit(e) {
    e.preventDefault();
    const user = $('signin-user').value.trim();
    const password = $('signin-password').value;
    if (!user) return fail('Enter your user name.', 'signin-user');
    if (!password) return fail('Enter your password.', 'signin-password');
    $('signin-submit').disabled = true;
    $('signin-error').textContent = '';
    try {
      const r = await fetch('api/session', {
        method: 'POST', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ user, password }),
      });
      if (r.ok) {
        $('signin-password').value = '';
        signedIn(await r.json());
      } else if (r.status === 401) {
        fail('Wrong user name or password.', 'signin-password');
      } else if (r.status === 429) {
        const wait = r.headers.get('Retry-After') || 'a few';
        fail('Too many failed attempts: wait ' + wait + ' seconds, then try again.', 'signin-password');
      } else if (r.status === 400) {
        fail('That is not a user name this site accepts (letters, digits and . _ @ -).', 'signin-user');
      } else {
        fail('The server cannot sign you in now (HTTP ' + r.status + '). Try again shortly.', 'signin-password');
      }
    } catch (err) {
      fail('The server cannot be reached. Check the connection and try again.', 'signin-password');
    } finally {
      $('signin-submit').disabled = false;
    }
  }

  async function signOut() {
    $('signout').disabled = true;
    try {
      await fetch('api/session', { method: 'DELETE', cache: 'no-store', headers: { Accept: 'application/json' } });
    } catch (err) {
      // Signed out here all the same: the cookie is HttpOnly, the page
      // forgets everything it showed.
    }
    $('signout').disabled = false;
    ended('You signed out.');
  }

  function ended(note) {
    if (!$('signin').hidden) return;
    onEnded();
    showForm(note);
  }

  // Asks who is signed in; then the page (signedIn) or the form.
  async function start(whenSignedIn, whenEnded) {
    onSignedIn = whenSignedIn;
    onEnded = whenEnded;
    $('signin-form').addEventListener('submit', submit);
    $('signout').addEventListener('click', signOut);
    try {
      const r = await fetch('api/session', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (r.ok) return signedIn(await r.json());
    } catch (err) {
      return showForm('The server cannot be reached. Try again shortly.');
    }
    showForm('');
  }

  return { start, ended };
})();
